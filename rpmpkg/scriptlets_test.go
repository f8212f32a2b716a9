// SPDX-License-Identifier: Apache-2.0

package rpmpkg

import (
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/klpkit/klpkit/kmod"
)

// scriptHost runs generated scriptlets with sh, a fake kpatch and a fake
// uname on PATH (testdata/rpmpkg/fakebin), the way rpm runs them:
// "sh script $1". The scripts' test for the running system (/ is PID 1's
// root) and their /lib/modules are pointed at what the test sets up.
type scriptHost struct {
	t       *testing.T
	state   string // fake kpatch state dir
	modules string // where the .ko files "are installed"
	uname   string
	image   bool   // not the running system: / is not PID 1's root
	libMods string // stands for /lib/modules
	sys     string // stands for sysfs: module/ and livepatch/ (the fake kpatch keeps them)
}

func newScriptHost(t *testing.T, uname string) *scriptHost {
	needTool(t, "sh")
	h := &scriptHost{t: t, state: t.TempDir(), modules: t.TempDir(), uname: uname, libMods: t.TempDir(), sys: t.TempDir()}
	return h
}

// kernelInstalled makes /lib/modules/<kver> exist.
func (h *scriptHost) kernelInstalled(kver string) {
	require.NoError(h.t, os.Mkdir(filepath.Join(h.libMods, kver), 0o755))
}

func (h *scriptHost) run(script string, arg string) (string, int) {
	h.t.Helper()
	fakebin, err := filepath.Abs(filepath.Join(fixtureDir, "fakebin"))
	require.NoError(h.t, err)
	// The scripts use the absolute module path; point it into the test dir.
	script = strings.ReplaceAll(script, ModuleDir, h.modules)
	require.Contains(h.t, script, "[ / -ef "+pid1Root+" ]")
	root := "/"
	if h.image {
		root = h.t.TempDir()
	}
	script = strings.ReplaceAll(script, pid1Root, root)
	script = strings.ReplaceAll(script, modulesDir, h.libMods+"/")
	script = strings.ReplaceAll(script, sysModuleDir, h.sys+"/module/")
	script = strings.ReplaceAll(script, sysLivepatchDir, h.sys+"/livepatch/")
	f := filepath.Join(h.t.TempDir(), "script")
	require.NoError(h.t, os.WriteFile(f, []byte(script), 0o644))
	cmd := exec.Command("sh", f, arg)
	cmd.Env = []string{"PATH=" + fakebin + ":/usr/bin:/bin", "FAKE_UNAME=" + h.uname, "FAKE_KPATCH_STATE=" + h.state, "FAKE_SYS=" + h.sys}
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

// scriptsFor builds package name for kernel around a module of the same
// name (in the kernel's spelling) and returns its scriptlets.
func scriptsFor(t *testing.T, kernel, name string) Scriptlets {
	p := testPackage()
	p.Name, p.Kernel = name, kernel
	p.Module = testModule(kmod.ModuleName(name), kernel, "")
	s, err := p.Spec()
	require.NoError(t, err)
	return s.Scripts
}

func TestPreScriptChecksKernel(t *testing.T) {
	tests := []struct {
		target, running string
		installed       string // a kernel in /lib/modules besides the running one
		image           bool
		ok              bool
	}{
		{target: "6.1.83-5.ph5", running: "6.1.83-5.ph5", ok: true},
		{target: "6.1.83-5.ph5", running: "6.1.83-5.ph5-rt"},
		{target: "6.1.83-5.ph5", running: "6.1.83-6.ph5"},
		{target: "6.1.83-5.ph5", running: "6.1.83-5.ph4"},
		{target: "4.19.325-1.ph3-aws", running: "4.19.325-1.ph3-aws", ok: true},
		{target: "4.19.325-1.ph3-aws", running: "4.19.325-1.ph3"},
		// The old rt form: Photon's own check rebuilds the string without
		// "-rtNN" and refuses the kernel it was built for.
		{target: "5.10.118-rt67-3.ph4-rt", running: "5.10.118-rt67-3.ph4-rt", ok: true},
		{target: "5.10.118-rt67-3.ph4-rt", running: "5.10.118-3.ph4-rt"},
		{target: "4.19.247-rt108-10.ph3-rt", running: "4.19.247-rt108-10.ph3-rt", ok: true},
		{target: "4.19.247-11.ph3-rt", running: "4.19.247-11.ph3-rt", ok: true},
		{target: "5.10.118-1.kat.ph4", running: "5.10.118-1.kat.ph4", ok: true},
		// A live host on another kernel: fine when the target is
		// installed (it gets the patch at boot), refused otherwise.
		{target: "6.1.83-6.ph5", running: "6.1.83-5.ph5", installed: "6.1.83-6.ph5", ok: true},
		{target: "6.1.83-6.ph5", running: "6.1.83-5.ph5", installed: "6.1.83-7.ph5"},
		// An image root: the build host's kernel says nothing.
		{target: "6.1.83-6.ph5", running: "6.12.9-amd64", image: true, ok: true},
		{target: "6.1.83-6.ph5", running: "6.1.83-6.ph5", image: true, ok: true},
	}
	for _, tt := range tests {
		t.Run(fmt.Sprintf("%s on %s image=%v installed=%s", tt.target, tt.running, tt.image, tt.installed), func(t *testing.T) {
			h := newScriptHost(t, tt.running)
			h.image = tt.image
			h.kernelInstalled(tt.running)
			if tt.installed != "" {
				h.kernelInstalled(tt.installed)
			}
			out, code := h.run(scriptsFor(t, tt.target, "lp").Pre, "1")
			if tt.ok {
				assert.Equal(t, 0, code, out)
				return
			}
			assert.Equal(t, 1, code)
			assert.Contains(t, out, "ABORT")
			assert.Contains(t, out, tt.target+", but the running kernel is "+tt.running+" and "+tt.target+" is not installed")
		})
	}
}

func TestPostScriptInstallsAndLoads(t *testing.T) {
	h := newScriptHost(t, "6.1.83-5.ph5")
	h.installKo("lp", "v1")
	out, code := h.run(scriptsFor(t, "6.1.83-5.ph5", "lp").Post, "1")
	require.Equal(t, 0, code, out)
	assert.Equal(t, []string{"kpatch install -k 6.1.83-5.ph5 " + h.modules + "/lp.ko", "kpatch load " + h.modules + "/lp.ko"}, h.log())
	assert.Equal(t, "v1", h.state1("loaded-lp"))
	assert.Equal(t, "v1", h.state1("installed-lp"))
	assert.Empty(t, out)
}

// Not the running system (rpm --root, an installroot, a chroot) or a live
// host on another kernel: the patch is installed for the target kernel's
// boot, never loaded, and the output says so. In an image the build host's
// kernel may even be the target's: it still does not load.
func TestPostScriptInstallsForBootOnly(t *testing.T) {
	tests := []struct {
		name    string
		running string
		image   bool
		says    string
	}{
		{"image", "6.1.83-5.ph5", true, "not the running system (an image root): installed for kernel 6.1.83-5.ph5, not loaded"},
		{"image on another kernel", "6.12.9-amd64", true, "not the running system (an image root): installed for kernel 6.1.83-5.ph5, not loaded"},
		{"live on another kernel", "6.1.83-4.ph5", false, "the running kernel is 6.1.83-4.ph5: installed for kernel 6.1.83-5.ph5, not loaded"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s := scriptsFor(t, "6.1.83-5.ph5", "lp")
			h := newScriptHost(t, tt.running)
			h.image = tt.image
			h.kernelInstalled("6.1.83-5.ph5")
			h.installKo("lp", "v1")
			out, code := h.run(s.Pre, "1")
			require.Equal(t, 0, code, out)
			out, code = h.run(s.Post, "1")
			require.Equal(t, 0, code, out)
			assert.Contains(t, out, "livepatch lp: "+tt.says)
			assert.Equal(t, []string{"kpatch install -k 6.1.83-5.ph5 " + h.modules + "/lp.ko"}, h.log(), "no load")
			assert.Equal(t, "v1", h.state1("installed-lp"))
			assert.Equal(t, "6.1.83-5.ph5", h.state1("kver-lp"), "installed for the target, not the running kernel")
			assert.Empty(t, h.state1("loaded-lp"))

			// Upgrade: the boot copy is replaced, nothing is unloaded.
			h.installKo("lp", "v2")
			out, code = h.run(s.Post, "2")
			require.Equal(t, 0, code, out)
			out, code = h.run(s.PreUn, "1")
			require.Equal(t, 0, code, out)
			assert.Equal(t, "v2", h.state1("installed-lp"))

			// Erase: uninstalled, no unload attempted.
			out, code = h.run(s.PreUn, "0")
			require.Equal(t, 0, code, out)
			assert.Empty(t, h.state1("installed-lp"))
			for _, l := range h.log() {
				assert.NotRegexp(t, `^kpatch (un)?load`, l)
			}
			assert.Contains(t, h.log(), "kpatch uninstall -k 6.1.83-5.ph5 lp")
		})
	}
}

// Where nothing can be loaded, installing for boot is all there is: a
// failure fails %post.
func TestPostScriptBootInstallFailureFails(t *testing.T) {
	h := newScriptHost(t, "6.1.83-5.ph5")
	h.image = true
	// No .ko at the packaged path: the fake kpatch install fails.
	out, code := h.run(scriptsFor(t, "6.1.83-5.ph5", "lp").Post, "1")
	assert.Equal(t, 1, code, out)
	assert.Contains(t, out, "livepatch lp: kpatch install "+h.modules+"/lp.ko for kernel 6.1.83-5.ph5 failed")
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
		"kpatch install -k 6.1.83-5.ph5 " + h.modules + "/lp.ko", "kpatch load " + h.modules + "/lp.ko",
		"kpatch unload lp", "kpatch uninstall -k 6.1.83-5.ph5 lp",
		"kpatch install -k 6.1.83-5.ph5 " + h.modules + "/lp.ko", "kpatch load " + h.modules + "/lp.ko",
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
// installed as Name.ko, so uninstall must name the file, and unload the
// module's own name: otherwise rpm -e leaves it in the store, or loaded.
func TestUninstallNamesTheInstalledFile(t *testing.T) {
	p := testPackage()
	p.Name, p.Kernel = "lp", "6.1.83-5.ph5"
	p.Module = testModule("klp_other", p.Kernel, "")
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
	assert.Contains(t, h.log(), "kpatch uninstall -k 6.1.83-5.ph5 lp")
}

// A cumulative series that names each version's module apart: the new
// %post loads version 2 beside version 1 (the kernel replaces 1 with 2
// atomically: no unpatched moment), and the old %preun takes out version
// 1's module once its patch has left the kernel's list; one still enabled
// (not replaced: stacked) is left alone.
func TestUpgradeUnloadsTheReplacedModule(t *testing.T) {
	old := scriptsFor(t, "6.1.83-5.ph5", "lp_1")
	h := newScriptHost(t, "6.1.83-5.ph5")
	h.installKo("lp_1", "v1")
	_, code := h.run(old.Post, "1")
	require.Equal(t, 0, code)
	require.DirExists(t, filepath.Join(h.sys, "module", "lp_1"))

	p := testPackage()
	p.Name, p.Kernel = "lp_1", "6.1.83-5.ph5" // the same package, its module renamed
	p.Module = testModule("lp_2", "6.1.83-5.ph5", "")
	spec, err := p.Spec()
	require.NoError(t, err)
	h.installKo("lp_2", "v2")
	out, code := h.run(strings.ReplaceAll(spec.Scripts.Post, "lp_1.ko", "lp_2.ko"), "2")
	require.Equal(t, 0, code, out)
	assert.NotContains(t, h.log(), "kpatch unload lp_2", "nothing of that name was loaded")
	assert.Equal(t, "v1", h.state1("loaded-lp_1"), "version 1 stays until replaced")
	assert.Equal(t, "v2", h.state1("loaded-lp_2"))

	// Not replaced (the new patch stacked on it): the old %preun leaves it.
	out, code = h.run(old.PreUn, "1")
	require.Equal(t, 0, code, out)
	assert.Equal(t, "v1", h.state1("loaded-lp_1"), "an enabled patch is never taken out by an upgrade")

	// Replaced: the kernel disabled version 1 and is removing it from its list.
	require.NoError(t, os.WriteFile(filepath.Join(h.sys, "livepatch", "lp_1", "enabled"), []byte("0\n"), 0o644))
	out, code = h.run(old.PreUn, "1")
	require.Equal(t, 0, code, out)
	assert.Empty(t, h.state1("loaded-lp_1"), "the replaced module is unloaded")
	assert.Equal(t, "v2", h.state1("loaded-lp_2"), "the new version stays live")
	assert.Equal(t, "v2", h.state1("installed-lp_2"), "and loads at boot")

	// Replaced and gone from the list: the same.
	h.installKo("lp_1", "v1")
	_, code = h.run(old.Post, "1")
	require.Equal(t, 0, code)
	require.NoError(t, os.RemoveAll(filepath.Join(h.sys, "livepatch", "lp_1")))
	out, code = h.run(old.PreUn, "1")
	require.Equal(t, 0, code, out)
	assert.Empty(t, h.state1("loaded-lp_1"))
}
