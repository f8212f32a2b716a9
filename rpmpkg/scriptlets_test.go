package rpmpkg

import (
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// scriptHost runs generated scriptlets with sh, a fake kpatch and a fake
// uname on PATH (testdata/rpmpkg/fakebin), the way rpm runs them:
// "sh script $1".
type scriptHost struct {
	t       *testing.T
	state   string // fake kpatch state dir
	modules string // where the .ko files "are installed"
	uname   string
}

func newScriptHost(t *testing.T, uname string) *scriptHost {
	needTool(t, "sh")
	h := &scriptHost{t: t, state: t.TempDir(), modules: t.TempDir(), uname: uname}
	return h
}

func (h *scriptHost) run(script string, arg string) (string, int) {
	h.t.Helper()
	fakebin, err := filepath.Abs(filepath.Join(fixtureDir, "fakebin"))
	require.NoError(h.t, err)
	// The scripts use the absolute module path; point it into the test dir.
	script = strings.ReplaceAll(script, ModuleDir, h.modules)
	f := filepath.Join(h.t.TempDir(), "script")
	require.NoError(h.t, os.WriteFile(f, []byte(script), 0o644))
	cmd := exec.Command("sh", f, arg)
	cmd.Env = []string{"PATH=" + fakebin + ":/usr/bin:/bin", "FAKE_UNAME=" + h.uname, "FAKE_KPATCH_STATE=" + h.state}
	out, err := cmd.CombinedOutput()
	if err != nil {
		var ee *exec.ExitError
		require.ErrorAs(h.t, err, &ee)
		return string(out), ee.ExitCode()
	}
	return string(out), 0
}

func (h *scriptHost) installKo(name, content string) {
	require.NoError(h.t, os.WriteFile(filepath.Join(h.modules, name+".ko"), []byte(content+"\n"), 0o644))
}

func (h *scriptHost) state1(file string) string {
	b, _ := os.ReadFile(filepath.Join(h.state, file))
	return strings.TrimSpace(string(b))
}

func (h *scriptHost) log() []string {
	b, _ := os.ReadFile(filepath.Join(h.state, "log"))
	s := strings.TrimSpace(string(b))
	if s == "" {
		return nil
	}
	return strings.Split(s, "\n")
}

func scriptsFor(t *testing.T, kernel, name string) Scriptlets {
	p := testPackage()
	p.Name, p.Kernel = name, kernel
	s, err := p.Spec()
	require.NoError(t, err)
	return s.Scripts
}

func TestPreScriptChecksExactKernel(t *testing.T) {
	tests := []struct {
		target, running string
		ok              bool
	}{
		{"6.1.83-5.ph5", "6.1.83-5.ph5", true},
		{"6.1.83-5.ph5", "6.1.83-5.ph5-rt", false},
		{"6.1.83-5.ph5", "6.1.83-6.ph5", false},
		{"6.1.83-5.ph5", "6.1.83-5.ph4", false},
		{"4.19.325-1.ph3-aws", "4.19.325-1.ph3-aws", true},
		{"4.19.325-1.ph3-aws", "4.19.325-1.ph3", false},
		// The old rt form: Photon's own check rebuilds the string without
		// "-rtNN" and refuses the kernel it was built for.
		{"5.10.118-rt67-3.ph4-rt", "5.10.118-rt67-3.ph4-rt", true},
		{"5.10.118-rt67-3.ph4-rt", "5.10.118-3.ph4-rt", false},
		{"4.19.247-rt108-10.ph3-rt", "4.19.247-rt108-10.ph3-rt", true},
		{"4.19.247-11.ph3-rt", "4.19.247-11.ph3-rt", true},
		{"5.10.118-1.kat.ph4", "5.10.118-1.kat.ph4", true},
	}
	for _, tt := range tests {
		t.Run(tt.target+" on "+tt.running, func(t *testing.T) {
			h := newScriptHost(t, tt.running)
			out, code := h.run(scriptsFor(t, tt.target, "lp").Pre, "1")
			if tt.ok {
				assert.Equal(t, 0, code, out)
				return
			}
			assert.Equal(t, 1, code)
			assert.Contains(t, out, "ABORT")
			assert.Contains(t, out, tt.target)
			assert.Contains(t, out, tt.running)
		})
	}
}

func TestPostScriptInstallsAndLoads(t *testing.T) {
	h := newScriptHost(t, "6.1.83-5.ph5")
	h.installKo("lp", "v1")
	out, code := h.run(scriptsFor(t, "6.1.83-5.ph5", "lp").Post, "1")
	require.Equal(t, 0, code, out)
	assert.Equal(t, []string{"kpatch install " + h.modules + "/lp.ko", "kpatch load " + h.modules + "/lp.ko"}, h.log())
	assert.Equal(t, "v1", h.state1("loaded-lp"))
	assert.Equal(t, "v1", h.state1("installed-lp"))
}

func TestPostScriptLoadFailureFails(t *testing.T) {
	h := newScriptHost(t, "6.1.83-5.ph5")
	h.installKo("lp", "v1")
	require.NoError(t, os.WriteFile(filepath.Join(h.state, "fail-load"), nil, 0o644))
	out, code := h.run(scriptsFor(t, "6.1.83-5.ph5", "lp").Post, "1")
	assert.Equal(t, 1, code)
	assert.Contains(t, out, "not patched")
	assert.Empty(t, h.state1("installed-lp"), "the boot copy is removed again")
}

func TestPreunScriptNeverFails(t *testing.T) {
	s := scriptsFor(t, "6.1.83-5.ph5", "lp")
	h := newScriptHost(t, "6.1.83-5.ph5")
	h.installKo("lp", "v1")
	_, code := h.run(s.Post, "1")
	require.Equal(t, 0, code)

	out, code := h.run(s.PreUn, "0")
	assert.Equal(t, 0, code, out)
	assert.Empty(t, h.state1("loaded-lp"))
	assert.Empty(t, h.state1("installed-lp"))

	// Already unloaded and uninstalled (by hand, or a previous failed
	// erase): still exit 0 so rpm -e does not wedge.
	out, code = h.run(s.PreUn, "0")
	assert.Equal(t, 0, code, out)
	assert.Contains(t, out, "already unloaded")
}

func TestUpgradeKeepsTheNewPatchLoaded(t *testing.T) {
	s := scriptsFor(t, "6.1.83-5.ph5", "lp")
	h := newScriptHost(t, "6.1.83-5.ph5")
	h.installKo("lp", "v1")
	_, code := h.run(s.Post, "1")
	require.Equal(t, 0, code)

	// rpm -U: new files replace old ones, new %post ($1=2), old %preun ($1=1).
	h.installKo("lp", "v2")
	out, code := h.run(s.Post, "2")
	require.Equal(t, 0, code, out)
	out, code = h.run(s.PreUn, "1")
	require.Equal(t, 0, code, out)

	assert.Equal(t, "v2", h.state1("loaded-lp"), "the new patch is live")
	assert.Equal(t, "v2", h.state1("installed-lp"), "the new patch loads at boot")
	assert.Equal(t, []string{
		"kpatch install " + h.modules + "/lp.ko", "kpatch load " + h.modules + "/lp.ko",
		"kpatch unload lp", "kpatch uninstall lp",
		"kpatch install " + h.modules + "/lp.ko", "kpatch load " + h.modules + "/lp.ko",
	}, h.log(), "the old %preun does nothing on upgrade")
}

// On an upgrade where the old version cannot be unloaded (before 5.1, a
// patch loaded after it holds it in place), the old version stays live and
// the new one is kept installed for the next boot instead of being thrown
// away; a load failure with the old version gone still fails.
func TestUpgradeWithOldVersionStuck(t *testing.T) {
	s := scriptsFor(t, "4.19.325-1.ph3", "lp")
	h := newScriptHost(t, "4.19.325-1.ph3")
	h.installKo("lp", "v1")
	_, code := h.run(s.Post, "1")
	require.Equal(t, 0, code)

	h.installKo("lp", "v2")
	require.NoError(t, os.WriteFile(filepath.Join(h.state, "fail-unload"), nil, 0o644))
	out, code := h.run(s.Post, "2")
	require.Equal(t, 0, code, out)
	assert.Contains(t, out, "the previous version stays live until reboot")
	assert.Equal(t, "v1", h.state1("loaded-lp"), "the old patch is still live")
	assert.Equal(t, "v2", h.state1("installed-lp"), "the new one loads at boot")

	require.NoError(t, os.Remove(filepath.Join(h.state, "fail-unload")))
	require.NoError(t, os.WriteFile(filepath.Join(h.state, "fail-load"), nil, 0o644))
	out, code = h.run(s.Post, "2")
	assert.Equal(t, 1, code, out)
	assert.Contains(t, out, "not patched")
	assert.Empty(t, h.state1("installed-lp"), "a version that does not load is not kept for boot")
}

// A module whose in-kernel name differs from the package (file) name is
// installed as Name.ko, so uninstall must name the file, not the module:
// otherwise rpm -e leaves it in the store and it loads again at boot.
func TestUninstallNamesTheInstalledFile(t *testing.T) {
	p := testPackage()
	p.Name, p.ModuleName, p.Kernel = "lp", "klp_other", "6.1.83-5.ph5"
	spec, err := p.Spec()
	require.NoError(t, err)
	s := spec.Scripts
	h := newScriptHost(t, "6.1.83-5.ph5")
	h.installKo("lp", "v1")
	_, code := h.run(s.Post, "1")
	require.Equal(t, 0, code)
	require.Equal(t, "v1", h.state1("installed-lp"))

	out, code := h.run(s.PreUn, "0")
	assert.Equal(t, 0, code, out)
	assert.Empty(t, h.state1("installed-lp"), "rpm -e removes the boot copy")
	assert.Contains(t, h.log(), "kpatch unload klp_other", "unload names the in-kernel module")
	assert.Contains(t, h.log(), "kpatch uninstall lp")
}
