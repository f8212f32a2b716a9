// SPDX-License-Identifier: Apache-2.0

package main

import (
	"bytes"
	"flag"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	klpversion "github.com/klpkit/klpkit/internal/version"
	"github.com/klpkit/klpkit/kmod"
	"github.com/klpkit/klpkit/kmod/kmodtest"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

var update = flag.Bool("update", false, "rewrite golden files")

type cliEnv struct {
	k   *kmodtest.Kernel
	a   *app
	dir string
	out *bytes.Buffer
	err *bytes.Buffer
}

func newCLI(t *testing.T, cfg *kmodtest.Config) *cliEnv {
	t.Helper()
	k := kmodtest.New(t, cfg)
	e := &cliEnv{k: k, dir: t.TempDir(), out: &bytes.Buffer{}, err: &bytes.Buffer{}}
	e.a = &app{sys: k.System(), stdout: e.out, stderr: e.err, timing: kmodtest.FastTiming()}
	return e
}

// run runs the command and returns its error; output stays in out and err.
func (e *cliEnv) run(args ...string) error {
	e.out.Reset()
	e.err.Reset()
	return e.a.run(args)
}

func (e *cliEnv) module(t *testing.T, file, name string, spec ...kmodtest.ModuleSpec) string {
	t.Helper()
	s := kmodtest.ModuleSpec{Name: name, Livepatch: true}
	if len(spec) > 0 {
		s = spec[0]
	}
	p, err := kmodtest.WriteModule(e.dir, file, s)
	require.NoError(t, err)
	return p
}

func TestLoadListUnload(t *testing.T) {
	e := newCLI(t, nil)
	path := e.module(t, "livepatch-foo.ko", "livepatch_foo")
	require.NoError(t, e.run("load", path))
	assert.Contains(t, e.out.String(), "loading patch module: "+path+"\n")
	assert.Empty(t, e.err.String())

	require.NoError(t, e.run("list"))
	assert.Equal(t, "Loaded patch modules:\nlivepatch_foo [enabled]\n\nInstalled patch modules:\n", e.out.String())

	require.NoError(t, e.run("unload", "livepatch-foo"))
	// kpatch says it waits only when the transition is still on at the
	// first look.
	out := strings.Replace(e.out.String(), "waiting (up to 5 seconds) for patch transition to complete...\n", "", 1)
	assert.Equal(t, "disabling patch module: livepatch_foo\nunloading patch module: livepatch_foo\n", out)
	assert.Empty(t, e.k.Loaded())
}

func TestInstallLoadAllUninstall(t *testing.T) {
	e := newCLI(t, nil)
	a := e.module(t, "livepatch-a.ko", "livepatch_a")
	b := e.module(t, "livepatch-b.ko.xz", "livepatch_b")
	for _, p := range []string{a, b} {
		require.NoError(t, e.run("install", p))
		assert.Contains(t, e.out.String(), "installing "+p+" ("+kmodtest.DefaultRelease+")")
	}
	assert.Empty(t, e.k.Loaded(), "install does not load")

	require.NoError(t, e.run("load", "--all"))
	assert.ElementsMatch(t, []string{"livepatch_a", "livepatch_b"}, e.k.Loaded())

	require.NoError(t, e.run("list"))
	assert.Equal(t, "Loaded patch modules:\nlivepatch_a [enabled]\nlivepatch_b [enabled]\n\nInstalled patch modules:\n"+
		"livepatch_a ("+kmodtest.DefaultRelease+")\nlivepatch_b ("+kmodtest.DefaultRelease+")\n", e.out.String())

	require.NoError(t, e.run("unload", "--all"))
	assert.Empty(t, e.k.Loaded())

	// load by installed name, either spelling; uninstall by file name.
	require.NoError(t, e.run("load", "livepatch_a"))
	require.NoError(t, e.run("unload", "livepatch_a"))
	require.NoError(t, e.run("load", "livepatch-b"))
	require.NoError(t, e.run("uninstall", "livepatch-a.ko"))
	require.NoError(t, e.run("uninstall", "livepatch_b"))
	require.NoError(t, e.run("list"))
	assert.Equal(t, "Loaded patch modules:\nlivepatch_b [enabled]\n\nInstalled patch modules:\n", e.out.String())
}

func TestLoadAllContinuesPastFailures(t *testing.T) {
	e := newCLI(t, nil)
	for _, n := range []string{"a", "b", "c"} {
		require.NoError(t, e.run("install", e.module(t, n+".ko", n)))
	}
	e.k.Fail("load", syscall.EPERM, 1) // the first module, a, fails
	err := e.run("load", "--all")
	require.Error(t, err)
	assert.Equal(t, []string{"c", "b"}, e.k.Loaded())
	assert.Contains(t, e.err.String(), "kpatch: failed to load module a:")
	assert.Contains(t, e.err.String(), "kpatch: 1 of 3 patch modules failed to load: a\n")
}

func TestLoadAllHonoursKpatchEnable(t *testing.T) {
	e := newCLI(t, nil)
	require.NoError(t, e.run("install", e.module(t, "a.ko", "a")))
	require.NoError(t, os.WriteFile(filepath.Join(e.k.Root, "proc", "cmdline"), []byte("quiet kpatch.enable=0\n"), 0o644))
	require.NoError(t, e.run("load", "--all"))
	assert.Empty(t, e.k.Loaded())
}

func TestFailuresExitOneWithKpatchPrefix(t *testing.T) {
	for _, tc := range []struct {
		name   string
		setup  func(t *testing.T, e *cliEnv) []string
		stderr string
	}{
		{"missing module", func(t *testing.T, e *cliEnv) []string { return []string{"load", "/nonexistent/x.ko"} }, "kpatch: module /nonexistent/x.ko not found\n"},
		{"not installed", func(t *testing.T, e *cliEnv) []string { return []string{"load", "nothing"} }, "kpatch: module nothing not found\n"},
		{"not a livepatch", func(t *testing.T, e *cliEnv) []string {
			return []string{"load", e.module(t, "p.ko", "p", kmodtest.ModuleSpec{Name: "p"})}
		}, "not a livepatch module"},
		{"wrong vermagic", func(t *testing.T, e *cliEnv) []string {
			return []string{"load", e.module(t, "p.ko", "p", kmodtest.ModuleSpec{Name: "p", Livepatch: true, Vermagic: "5.10.4-1.ph4 SMP "})}
		}, `module has "5.10.4-1.ph4 SMP ", kernel is "` + kmodtest.DefaultRelease + `"`},
		{"install wrong kernel", func(t *testing.T, e *cliEnv) []string {
			return []string{"install", "-k", "5.10.4-1.ph4", e.module(t, "p.ko", "p")}
		}, "vermagic mismatch"},
		{"unload not loaded", func(t *testing.T, e *cliEnv) []string { return []string{"unload", "p"} }, "kpatch: failed to unload module p: p: module not loaded\n"},
		{"uninstall path", func(t *testing.T, e *cliEnv) []string { return []string{"uninstall", "/x/p.ko"} }, "not a path"},
		{"uninstall missing", func(t *testing.T, e *cliEnv) []string { return []string{"uninstall", "p"} }, "module not installed"},
		{"force without transition", func(t *testing.T, e *cliEnv) []string { return []string{"force"} }, "kpatch: no patch module in transition\n"},
		{"bad store", func(t *testing.T, e *cliEnv) []string { return []string{"list", "--store=x"} }, `--store "x"`},
		{"unknown", func(t *testing.T, e *cliEnv) []string { return []string{"frobnicate"} }, "kpatch: subcommand frobnicate not recognized\nusage: kpatch"},
		{"no args", func(t *testing.T, e *cliEnv) []string { return nil }, "usage: kpatch <command>"},
		{"help", func(t *testing.T, e *cliEnv) []string { return []string{"help"} }, "Valid commands:"},
		{"bad flag", func(t *testing.T, e *cliEnv) []string { return []string{"load", "--bogus"} }, "unknown flag: --bogus"},
		{"load without module", func(t *testing.T, e *cliEnv) []string { return []string{"load"} }, "usage: kpatch"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			e := newCLI(t, nil)
			args := tc.setup(t, e)
			require.Error(t, e.run(args...))
			assert.Contains(t, e.err.String(), tc.stderr)
			assert.Empty(t, e.k.Loaded())
		})
	}
}

func TestRunRealEntryPoint(t *testing.T) {
	var out, errb bytes.Buffer
	require.NoError(t, run([]string{"version"}, &out, &errb))
	assert.Equal(t, version+"\n"+klpversion.Line()+"\n", out.String())
	require.Error(t, run([]string{"help"}, &out, &errb))
}

// kpatch version keeps kpatch's line first (scripts parse it) and adds
// klpkit's; -v and --version say the same.
func TestVersion(t *testing.T) {
	for _, arg := range []string{"version", "--version", "-v"} {
		var out, errb bytes.Buffer
		require.NoError(t, run([]string{arg}, &out, &errb), arg)
		lines := strings.Split(strings.TrimSuffix(out.String(), "\n"), "\n")
		require.Len(t, lines, 2, arg)
		assert.Equal(t, "0.9.8", lines[0], arg)
		assert.Equal(t, "klpkit devel", lines[1], "%s: a test binary has no VCS stamps", arg)
		assert.Empty(t, errb.String())
	}
}

// The built command reports the commit it was built from.
func TestVersionOfBuiltBinary(t *testing.T) {
	if testing.Short() {
		t.Skip("builds the command: not in -short")
	}
	bin := filepath.Join(t.TempDir(), "kpatch")
	want := `^klpkit devel$`
	args := []string{"build", "-buildvcs=true", "-o", bin, "."} // the flag beats GOFLAGS=-buildvcs=false
	if head, err := exec.Command("git", "rev-parse", "HEAD").Output(); err == nil {
		want = `^klpkit devel \(` + string(head[:12]) + `, \d{4}-\d\d-\d\dT[0-9:]+Z(, modified)?\)$`
	} else {
		args = []string{"build", "-buildvcs=false", "-o", bin, "."}
	}
	cmd := exec.Command("go", args...)
	cmd.Env = append(os.Environ(), "CGO_ENABLED=0")
	b, err := cmd.CombinedOutput()
	require.NoError(t, err, "go build: %s", b)
	out, err := exec.Command(bin, "version").Output()
	require.NoError(t, err)
	lines := strings.Split(strings.TrimSpace(string(out)), "\n")
	require.Len(t, lines, 2)
	assert.Equal(t, "0.9.8", lines[0])
	assert.Regexp(t, want, lines[1])
}

// At SignalAfter the load says what kpatch says: the transition has
// stalled, signals (or the kernel's own), and the second wait.
func TestStallMessages(t *testing.T) {
	for _, c := range []struct {
		name   string
		cfg    *kmodtest.Config
		stdout string
		stderr string
	}{
		{"signal file", &kmodtest.Config{Signal: true}, "patch transition has stalled!\nsignaling stalled process(es):\nwaiting (up to 0 seconds)", ""},
		{"automatic", nil, "patch transition has stalled!\nwaiting (up to 0 seconds)",
			"kpatch: Livepatch process signaling is performed automatically on your system.\nkpatch: Skipping manual process signaling.\n"},
	} {
		t.Run(c.name, func(t *testing.T) {
			e := newCLI(t, c.cfg)
			e.k.AddTask(kmodtest.Task{PID: 42, Comm: "sleepy", Stubborn: true})
			e.a.timing.SignalAfter = 100 * time.Millisecond
			e.a.timing.TransitionTimeout = 300 * time.Millisecond
			require.Error(t, e.run("load", e.module(t, "a.ko", "a")))
			assert.Contains(t, e.out.String(), c.stdout)
			assert.Contains(t, e.out.String(), "\nStalled processes:\n42 sleepy\nstack:\n\nmodule a did not complete its transition, unloading...\n")
			assert.True(t, strings.HasPrefix(e.err.String(), c.stderr), e.err.String())
		})
	}
}

func TestStalledLoadReportsAndReverts(t *testing.T) {
	e := newCLI(t, nil)
	e.k.AddTask(kmodtest.Task{PID: 42, Comm: "sleepy", Stack: "[<0>] cmdline_proc_show+0x10/0x30", Stubborn: true})
	e.a.timing.TransitionTimeout = 300 * time.Millisecond
	require.Error(t, e.run("load", e.module(t, "a.ko", "a")))
	assert.Contains(t, e.out.String(), "\nStalled processes:\n42 sleepy\nstack:\n[<0>] cmdline_proc_show+0x10/0x30\n")
	assert.Contains(t, e.out.String(), "module a did not complete its transition, unloading...\n")
	assert.Contains(t, e.err.String(), "kpatch: failed to load module")
	assert.Contains(t, e.err.String(), "transition stalled")
	assert.Empty(t, e.k.Loaded())
}

// loadInBackground starts a load that will stall on a stubborn task; the
// returned channel yields its result.
func loadInBackground(t *testing.T, e *cliEnv, path string) chan error {
	done := make(chan error, 1)
	go func() {
		_, err := e.a.sys.Load(t.Context(), path, &kmod.LoadOptions{Timing: &kmod.Timing{TransitionTimeout: time.Minute}})
		done <- err
	}()
	require.Eventually(t, func() bool {
		l, err := e.a.sys.List()
		return err == nil && l.InTransition != ""
	}, 5*time.Second, time.Millisecond)
	return done
}

func TestSignalAndForce(t *testing.T) {
	e := newCLI(t, &kmodtest.Config{Signal: true})
	e.k.AddTask(kmodtest.Task{PID: 42, Comm: "sleepy", Stubborn: true})
	done := loadInBackground(t, e, e.module(t, "a.ko", "a"))

	require.NoError(t, e.run("signal"))
	assert.Equal(t, "signaling stalled process(es):\n", e.out.String())
	require.NoError(t, e.run("force", "a"))
	assert.Contains(t, e.err.String(), "can never be removed")
	require.NoError(t, <-done, "forced transition completes the load")

	require.NoError(t, e.run("list"))
	assert.Contains(t, e.out.String(), "a [enabled]\n")
	e.a.timing.RefTimeout = 200 * time.Millisecond // the reference never drops
	require.Error(t, e.run("unload", "a"))
	assert.Contains(t, e.err.String(), "forced")
}

func TestSignalWithoutTransition(t *testing.T) {
	e := newCLI(t, nil)
	require.NoError(t, e.run("signal"))
	assert.Empty(t, e.err.String(), "kpatch is silent when no patch is in transition")
	assert.Empty(t, e.out.String())
}

func TestSignalAutomatic(t *testing.T) {
	e := newCLI(t, nil)
	e.k.AddTask(kmodtest.Task{PID: 42, Comm: "sleepy", Stubborn: true})
	done := loadInBackground(t, e, e.module(t, "a.ko", "a"))
	require.NoError(t, e.run("signal"))
	assert.Equal(t, "kpatch: Livepatch process signaling is performed automatically on your system.\n"+
		"kpatch: Skipping manual process signaling.\n", e.err.String())
	require.NoError(t, e.run("force"))
	require.NoError(t, <-done)
}

// TestListGolden checks the byte layout Cockpit parses, with a stalled
// transition in progress, and the JSON form.
func TestListGolden(t *testing.T) {
	e := newCLI(t, &kmodtest.Config{ReplaceAttr: true, StackOrder: true})
	cve := e.module(t, "livepatch-cve-2023-1.ko", "livepatch_cve_2023_1")
	require.NoError(t, e.run("load", cve))
	require.NoError(t, e.run("install", cve))
	old := e.module(t, "livepatch-old.ko.zst", "livepatch_old", kmodtest.ModuleSpec{Name: "livepatch_old", Livepatch: true, Vermagic: "5.10.4-1.ph4 SMP "})
	require.NoError(t, e.run("install", "--store=upstream", "-k", "5.10.4-1.ph4", old))
	e.k.AddTask(kmodtest.Task{PID: 4242, Comm: "kworker/0:1", Stack: "[<0>] worker_thread+0xab/0x3b0\n[<0>] kthread+0xe4/0x110", Stubborn: true})
	// kpatch globs /proc/[0-9]*: 10007 comes before 4242; an unreadable
	// stack prints as a blank line.
	e.k.AddTask(kmodtest.Task{PID: 10007, Comm: "sleeper", Stubborn: true})
	done := loadInBackground(t, e, e.module(t, "livepatch-b.ko", "livepatch_b"))

	require.NoError(t, e.run("list"))
	golden(t, "list.golden", e.out.Bytes())
	require.NoError(t, e.run("list", "--json"))
	golden(t, "list.json.golden", bytes.ReplaceAll(e.out.Bytes(), []byte(e.k.Root), []byte("ROOT")))

	require.NoError(t, e.run("force"))
	require.NoError(t, <-done)
}

func golden(t *testing.T, name string, got []byte) {
	t.Helper()
	path := filepath.Join("testdata", name)
	if *update {
		require.NoError(t, os.WriteFile(path, got, 0o644))
	}
	want, err := os.ReadFile(path)
	require.NoError(t, err, "run go test -update to create %s", path)
	assert.Equal(t, string(want), string(got))
}

func TestInstallHooks(t *testing.T) {
	e := newCLI(t, nil)
	var calls []string
	e.a.enableUnit = func() error { calls = append(calls, "enable"); return nil }
	e.a.depmod = func(kver string) error { calls = append(calls, "depmod "+kver); return nil }
	require.NoError(t, e.run("install", e.module(t, "a.ko", "a")))
	require.NoError(t, e.run("uninstall", "a"))
	require.NoError(t, e.run("install", "--store=upstream", e.module(t, "b.ko", "b")))
	d := "depmod " + kmodtest.DefaultRelease
	assert.Equal(t, []string{"enable", d, d, "enable"}, calls, "depmod only for the Photon store, under /lib/modules")
}

// info on a file that exists but is no module says what is wrong with it,
// not that it was not found.
func TestInfoMalformedModuleIsNotNotFound(t *testing.T) {
	e := newCLI(t, nil)
	bad := filepath.Join(e.dir, "bad.ko")
	require.NoError(t, os.WriteFile(bad, []byte("junk"), 0o644))
	require.Error(t, e.run("info", bad))
	assert.Contains(t, e.err.String(), "kpatch: ")
	assert.Contains(t, e.err.String(), "not a valid kernel module")
	assert.NotContains(t, e.err.String(), "not found")

	e.err.Reset()
	require.Error(t, e.run("info", "nothing"))
	assert.Contains(t, e.err.String(), "kpatch: module nothing not found")
}

// On Photon 3.0's 4.19, load --retire-older asks for the unpatched window
// before it hands over, then does it and says how long the patch was down.
func TestLoadRetireOlderBefore51(t *testing.T) {
	const rel = "4.19.325-1.ph3"
	vermagic := rel + " SMP mod_unload modversions "
	e := newCLI(t, &kmodtest.Config{Release: rel, Vermagic: vermagic})
	mod := func(name string) string {
		return e.module(t, name+".ko", name, kmodtest.ModuleSpec{Name: name, Livepatch: true, Vermagic: vermagic})
	}
	require.NoError(t, e.run("load", mod("livepatch_v1")))
	cum := mod("livepatch_v2")

	require.Error(t, e.run("load", "--allow-unpatched-window", cum))
	assert.Contains(t, e.err.String(), "--allow-unpatched-window goes with --retire-older")

	err := e.run("load", "--retire-older", cum)
	require.ErrorIs(t, err, kmod.ErrStackingEnforced)
	assert.Contains(t, e.err.String(), "kpatch: failed to load module "+cum)
	assert.Contains(t, e.err.String(), "livepatch_v1 lie below livepatch_v2")
	require.NoError(t, e.run("list"))
	assert.Equal(t, "Loaded patch modules:\nlivepatch_v1 [enabled]\nlivepatch_v2 [enabled]\n\nInstalled patch modules:\n", e.out.String())

	require.NoError(t, e.run("unload", "livepatch_v2"))
	require.NoError(t, e.run("load", "--retire-older", "--allow-unpatched-window", cum))
	out := e.out.String()
	for _, want := range []string{
		"kernel before 5.1: taking livepatch_v2 down to retire the patch modules below it\n",
		"disabling patch module: livepatch_v2\n",
		"unloading patch module: livepatch_v1\n",
		"retired older patch module: livepatch_v1\n",
		"enabling patch module: livepatch_v2\n",
		"livepatch_v2 is live again after ",
	} {
		assert.Contains(t, out, want)
	}
	assert.Equal(t, []string{"livepatch_v2"}, e.k.Loaded())

	// Disabled by hand, a 4.19 patch stays listed until unloaded.
	require.NoError(t, e.k.WriteAttr(filepath.Join(e.k.Root, "sys/kernel/livepatch/livepatch_v2/enabled"), "0"))
	require.Eventually(t, func() bool {
		return e.run("list") == nil && e.out.String() == "Loaded patch modules:\nlivepatch_v2 [disabled]\n\nInstalled patch modules:\n"
	}, 5*time.Second, time.Millisecond)
}

// kpatch prints the header whenever a patch is in transition, even when no
// task is stalled yet, and nothing otherwise.
func TestStalledBlockHeader(t *testing.T) {
	var b bytes.Buffer
	writeStalled(&b, true, nil)
	assert.Equal(t, "\nStalled processes:\n", b.String())
	b.Reset()
	writeStalled(&b, false, nil)
	assert.Empty(t, b.String())
}

// Boot loads in install order, so the newest patch ends on top of the
// stack even where names sort the other way.
func TestLoadAllInInstallOrder(t *testing.T) {
	e := newCLI(t, nil)
	for _, n := range []string{"livepatch_v9", "livepatch_v10"} {
		require.NoError(t, e.run("install", e.module(t, n+".ko", n)))
	}
	inst, err := e.a.sys.Installed(kmodtest.DefaultRelease)
	require.NoError(t, err)
	require.Len(t, inst, 2)
	now := time.Now()
	for _, in := range inst {
		age := time.Hour // v9 was installed an hour before v10
		if in.Name == "livepatch_v10" {
			age = 0
		}
		require.NoError(t, os.Chtimes(in.Path, now.Add(-age), now.Add(-age)))
	}
	require.NoError(t, e.run("load", "--all"))
	assert.Equal(t, []string{"livepatch_v10", "livepatch_v9"}, e.k.Loaded(), "v10 loaded last, on top")
	assert.Equal(t, []string{"livepatch_v9", "livepatch_v10"}, e.k.Patches())
}
