// SPDX-License-Identifier: Apache-2.0

package kmodtest

import (
	"crypto/x509"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/klpkit/klpkit/internal/kver"
	"github.com/klpkit/klpkit/kmod"
)

// Defaults of the fake kernel: Debian bookworm's, as in the test lab.
const (
	DefaultRelease  = "6.1.0-56-amd64"
	DefaultVermagic = DefaultRelease + " SMP preempt mod_unload modversions "
)

// errENOKEY is Linux's ENOKEY, spelt out so that the fake builds everywhere.
const errENOKEY = syscall.Errno(126)

// Config describes the fake kernel. The zero value is a 6.1 kernel with
// livepatch, no in-kernel decompression, no signal file.
//
// A Release before 5.1 (Photon 3.0's 4.19) gets that kernel's livepatch
// rules: a disabled patch stays registered, its directory reading enabled
// 0, until its module is removed; it can be enabled again; only the topmost
// enabled patch can be disabled and only a patch whose predecessor is
// enabled can be enabled (a load on top of a disabled patch fails EBUSY);
// there is no atomic replace, and the signal file exists. A write that
// breaks these rules fails with EBUSY (one made to the file by hand is
// undone) and is recorded in Rejected.
type Config struct {
	Release  string // uname -r (default DefaultRelease)
	Vermagic string // what modules must carry (default Release + " SMP preempt mod_unload modversions ")
	// NoLivepatch models a kernel without CONFIG_LIVEPATCH.
	NoLivepatch bool
	// Compression is /sys/module/compression ("gzip", "xz", "zstd"; ""
	// = no in-kernel decompression).
	Compression string
	// Signal adds the 4.15–5.0 signal file to patches.
	Signal bool
	// ReplaceAttr and StackOrder add the 6.11 replace and 6.14 stack_order
	// files.
	ReplaceAttr, StackOrder bool
	// NoFinit makes finit_module fail with ENOSYS (seccomp sandboxes).
	NoFinit bool
	// ModulesDisabled, Lockdown and SigEnforce make loads fail with EPERM,
	// EPERM (unsigned modules) and EKEYREJECTED (unsigned modules; ENOKEY
	// before 5.1, as 4.19 answers).
	ModulesDisabled, Lockdown, SigEnforce bool
	// TrustedKeys, when set, are the certificates of the kernel's keyrings
	// and signatures are checked for real (package modsign), as the
	// kernel does: a malformed one fails EBADMSG, one that does not verify
	// EKEYREJECTED; an unsigned module or one signed with another key is
	// refused under SigEnforce or Lockdown as above. Without TrustedKeys
	// any signature trailer counts as trusted.
	TrustedKeys []*x509.Certificate
	// TransitionTicks is how many ticks a transition takes (default 3).
	TransitionTicks int
	// Tick is the fake kernel's clock (default 1ms).
	Tick time.Duration
}

// Patch is what the fake loads for a livepatch module: the klp_patch a
// real module would register. SetPatch sets it before the load.
type Patch struct {
	Replace bool
	// Objects maps object name to function names (default vmlinux:
	// cmdline_proc_show).
	Objects map[string][]string
}

// Task is a fake task in /proc.
type Task struct {
	PID   int
	Comm  string
	Stack string
	// Stubborn tasks keep a patched function on their stack: a transition
	// to "patched" never finishes while they exist, unless reversed, forced,
	// or they wake on a signal.
	Stubborn bool
	// WakesOnSignal lets a signal (the signal file) unstick the task.
	WakesOnSignal bool
}

// Kernel is a fake kernel: it implements kmod.Kernel and kmod.AttrWriter
// and keeps sysfs and procfs files under Root. Writes to enabled, force and
// signal through WriteAttr act at once; ones made to the files by hand are
// picked up on the next tick, which also moves transitions on.
type Kernel struct {
	Root string
	cfg  Config

	mu       sync.Mutex
	modules  []*module // newest first, as /proc/modules
	patches  []*patch  // stack order
	specs    map[string]Patch
	tasks    []*Task
	woken    map[int]bool
	failures map[string][]syscall.Errno
	calls    []string
	rejected []string
	legacy   bool // a kernel before 5.1
	stop     chan struct{}
	done     chan struct{}
}

type module struct {
	name      string
	size      int
	refcnt    int
	livepatch bool
	forced    bool
}

type patch struct {
	name       string
	replace    bool
	target     bool // enabled value
	transition bool
	ticks      int
}

// New starts a fake kernel in a fresh temp directory of tb, stopped at the
// end of the test.
func New(tb testing.TB, cfg *Config) *Kernel {
	tb.Helper()
	k, err := Start(tb.TempDir(), cfg)
	if err != nil {
		tb.Fatalf("kmodtest: %v", err)
	}
	tb.Cleanup(k.Close)
	return k
}

// Start starts a fake kernel whose tree lives in dir. Close stops it.
func Start(dir string, cfg *Config) (*Kernel, error) {
	k := &Kernel{Root: dir, specs: map[string]Patch{}, woken: map[int]bool{}, failures: map[string][]syscall.Errno{},
		stop: make(chan struct{}), done: make(chan struct{})}
	if cfg != nil {
		k.cfg = *cfg
	}
	if k.cfg.Release == "" {
		k.cfg.Release = DefaultRelease
	}
	if k.cfg.Vermagic == "" {
		k.cfg.Vermagic = k.cfg.Release + " SMP preempt mod_unload modversions "
	}
	v, ok := kver.FromRelease(k.cfg.Release)
	k.legacy = ok && v.Before(kver.AtomicReplace)
	if k.legacy {
		k.cfg.Signal = true
	}
	if k.cfg.TransitionTicks <= 0 {
		k.cfg.TransitionTicks = 3
	}
	if k.cfg.Tick <= 0 {
		k.cfg.Tick = time.Millisecond
	}
	for _, d := range []string{"sys/module", "proc/sys/kernel", "sys/kernel/security", "lib/modules/" + k.cfg.Release, "var/lib/kpatch", "run"} {
		if err := os.MkdirAll(k.path(d), 0o755); err != nil {
			return nil, err
		}
	}
	if !k.cfg.NoLivepatch {
		if err := os.MkdirAll(k.path("sys/kernel/livepatch"), 0o755); err != nil {
			return nil, err
		}
	}
	k.put("proc/sys/kernel/modules_disabled", map[bool]string{false: "0", true: "1"}[k.cfg.ModulesDisabled])
	k.put("sys/kernel/security/lockdown", map[bool]string{false: "[none] integrity confidentiality", true: "none [integrity] confidentiality"}[k.cfg.Lockdown])
	if k.cfg.Compression != "" {
		k.put("sys/module/compression", k.cfg.Compression)
	}
	k.writeProcModules()
	go k.run()
	return k, nil
}

// Close stops the fake kernel's clock.
func (k *Kernel) Close() {
	select {
	case <-k.stop:
	default:
		close(k.stop)
		<-k.done
	}
}

// System returns a kmod.System wired to this fake kernel, with fast polling.
func (k *Kernel) System() *kmod.System {
	return &kmod.System{
		SysRoot:      k.path("sys"),
		ProcRoot:     k.path("proc"),
		ModulesRoot:  k.path("lib/modules"),
		KpatchRoot:   k.path("var/lib/kpatch"),
		LockPath:     k.path("run/klpkit-kmod.lock"),
		Kernel:       k,
		PollInterval: time.Millisecond,
	}
}

// FastTiming is a kmod.Timing for tests: millisecond retries and signals,
// kpatch's retry count, and waits long enough (5s) that a loaded machine
// does not turn a normal transition into a stall. Tests that expect a stall
// set a shorter TransitionTimeout: stubborn tasks never switch.
func FastTiming() *kmod.Timing {
	return &kmod.Timing{BusyInterval: time.Millisecond, SignalAfter: 20 * time.Millisecond,
		TransitionTimeout: 5 * time.Second, RefTimeout: 5 * time.Second, RevertTimeout: 5 * time.Second}
}

// SetPatch says what the module called name registers when loaded.
func (k *Kernel) SetPatch(name string, p Patch) {
	k.mu.Lock()
	defer k.mu.Unlock()
	k.specs[kmod.ModuleName(name)] = p
}

// AddTask adds a task to /proc.
func (k *Kernel) AddTask(t Task) {
	k.mu.Lock()
	defer k.mu.Unlock()
	tc := t
	k.tasks = append(k.tasks, &tc)
	dir := fmt.Sprintf("proc/%d", t.PID)
	k.put(dir+"/comm", t.Comm)
	k.put(fmt.Sprintf("%s/task/%d/comm", dir, t.PID), t.Comm)
	k.put(fmt.Sprintf("%s/task/%d/stack", dir, t.PID), t.Stack)
	k.updateTaskStates()
}

// Fail makes the next n calls of op ("load" for finit/init_module,
// "delete" for delete_module, "enable" and "disable" for writes of 1 and 0
// to a patch's enabled file through WriteAttr) fail with errno before
// anything else.
func (k *Kernel) Fail(op string, errno syscall.Errno, n int) {
	k.mu.Lock()
	defer k.mu.Unlock()
	for range n {
		k.failures[op] = append(k.failures[op], errno)
	}
}

// Calls returns the syscalls made so far, e.g. "finit_module p flags=4".
func (k *Kernel) Calls() []string {
	k.mu.Lock()
	defer k.mu.Unlock()
	return append([]string(nil), k.calls...)
}

// Loaded returns the loaded module names, newest first.
func (k *Kernel) Loaded() []string {
	k.mu.Lock()
	defer k.mu.Unlock()
	var out []string
	for _, m := range k.modules {
		out = append(out, m.name)
	}
	return out
}

// Rejected returns the sysfs writes the fake undid because the kernel would
// have refused them (EBUSY), e.g. "enabled p1=0: p2 above it is enabled".
func (k *Kernel) Rejected() []string {
	k.mu.Lock()
	defer k.mu.Unlock()
	return append([]string(nil), k.rejected...)
}

// Patches returns the patches in sysfs in stack order.
func (k *Kernel) Patches() []string {
	k.mu.Lock()
	defer k.mu.Unlock()
	var out []string
	for _, p := range k.patches {
		out = append(out, p.name)
	}
	return out
}

func (k *Kernel) path(rel string) string { return filepath.Join(k.Root, rel) }

// put writes a file atomically (temp + rename) so kmod never reads it half
// written.
func (k *Kernel) put(rel, value string) {
	p := k.path(rel)
	os.MkdirAll(filepath.Dir(p), 0o755)
	tmp := p + ".fake-tmp"
	if err := os.WriteFile(tmp, []byte(value+"\n"), 0o644); err == nil {
		os.Rename(tmp, p)
	}
}

// vanish removes a directory in one step, as sysfs does.
func (k *Kernel) vanish(rel string) {
	p := k.path(rel)
	trash := filepath.Join(k.Root, fmt.Sprintf(".gone-%d", time.Now().UnixNano()))
	if os.Rename(p, trash) == nil {
		os.RemoveAll(trash)
	}
}

func (k *Kernel) failure(op string) error {
	if q := k.failures[op]; len(q) > 0 {
		k.failures[op] = q[1:]
		return q[0]
	}
	return nil
}

// FinitModule implements kmod.Kernel.
func (k *Kernel) FinitModule(f *os.File, params string, flags int) error {
	k.mu.Lock()
	defer k.mu.Unlock()
	k.calls = append(k.calls, fmt.Sprintf("finit_module %s flags=%d", filepath.Base(f.Name()), flags))
	if k.cfg.NoFinit {
		return syscall.ENOSYS
	}
	if flags&^(kmod.ModuleInitIgnoreModversions|kmod.ModuleInitIgnoreVermagic|kmod.ModuleInitCompressedFile) != 0 {
		return syscall.EINVAL
	}
	data, err := io.ReadAll(f)
	if err != nil {
		return syscall.EBADF
	}
	img, c, err := kmod.Decompress(data)
	if flags&kmod.ModuleInitCompressedFile != 0 {
		if k.cfg.Compression == "" {
			return syscall.EOPNOTSUPP
		}
		if err != nil || c.String() != k.cfg.Compression {
			return syscall.EINVAL
		}
	} else if c != kmod.CompressNone {
		return syscall.ENOEXEC
	}
	return k.load(img)
}

// InitModule implements kmod.Kernel.
func (k *Kernel) InitModule(image []byte, params string) error {
	k.mu.Lock()
	defer k.mu.Unlock()
	k.calls = append(k.calls, fmt.Sprintf("init_module %d bytes", len(image)))
	return k.load(image)
}

// Release implements kmod.Kernel.
func (k *Kernel) Release() (string, error) { return k.cfg.Release, nil }

func (k *Kernel) load(img []byte) error {
	if err := k.failure("load"); err != nil {
		return err
	}
	if k.cfg.ModulesDisabled {
		return syscall.EPERM
	}
	m, err := kmod.ParseModule(img)
	if err != nil || m.Compression != kmod.CompressNone {
		return syscall.ENOEXEC
	}
	if err := k.checkSignature(img, m); err != nil {
		return err
	}
	if m.Info.Vermagic != k.cfg.Vermagic {
		return syscall.ENOEXEC
	}
	if m.Info.Livepatch && k.cfg.NoLivepatch {
		return syscall.ENOEXEC
	}
	for _, old := range k.modules {
		if old.name == m.Name {
			return syscall.EEXIST
		}
	}
	mod := &module{name: m.Name, size: 16384}
	if m.Info.Livepatch {
		for _, p := range k.patches {
			if p.transition {
				return syscall.EBUSY
			}
		}
		if n := len(k.patches); k.legacy && n > 0 && !k.patches[n-1].target {
			// klp_enable_patch in the module's init: the patch below is
			// disabled, so the init fails and the module goes.
			return syscall.EBUSY
		}
		mod.livepatch, mod.refcnt = true, 1
		k.addPatch(m.Name)
	}
	k.modules = append([]*module{mod}, k.modules...)
	dir := "sys/module/" + m.Name
	k.put(dir+"/initstate", "live")
	k.put(dir+"/refcnt", fmt.Sprint(mod.refcnt))
	taint := "OE"
	if mod.livepatch {
		taint = "OEK"
	}
	k.put(dir+"/taint", taint)
	k.writeProcModules()
	return nil
}

// DeleteModule implements kmod.Kernel.
func (k *Kernel) DeleteModule(name string, flags int) error {
	k.mu.Lock()
	defer k.mu.Unlock()
	k.calls = append(k.calls, fmt.Sprintf("delete_module %s flags=%d", name, flags))
	if err := k.failure("delete"); err != nil {
		return err
	}
	for i, m := range k.modules {
		if m.name != name {
			continue
		}
		if m.refcnt != 0 {
			return syscall.EWOULDBLOCK
		}
		if p := k.patch(name); p != nil {
			// Before 5.1 a disabled patch is registered until its
			// module's exit unregisters it.
			k.removePatch(p)
		}
		k.modules = append(k.modules[:i], k.modules[i+1:]...)
		k.vanish("sys/module/" + name)
		k.writeProcModules()
		return nil
	}
	return syscall.ENOENT
}

func (k *Kernel) writeProcModules() {
	var b strings.Builder
	for _, m := range k.modules {
		taint := "(OE)"
		if m.livepatch {
			taint = "(OEK)"
		}
		fmt.Fprintf(&b, "%s %d %d - Live 0x0000000000000000 %s\n", m.name, m.size, m.refcnt, taint)
	}
	k.put("proc/modules", strings.TrimSuffix(b.String(), "\n"))
}

func (k *Kernel) module(name string) *module {
	for _, m := range k.modules {
		if m.name == name {
			return m
		}
	}
	return nil
}

func (k *Kernel) patch(name string) *patch {
	for _, p := range k.patches {
		if p.name == name {
			return p
		}
	}
	return nil
}

func (k *Kernel) setRefcnt(name string, n int) {
	if m := k.module(name); m != nil {
		m.refcnt = n
		k.put("sys/module/"+name+"/refcnt", fmt.Sprint(n))
		k.writeProcModules()
	}
}

// sortedObjects returns a patch spec's objects in a stable order.
func sortedObjects(spec Patch) []string {
	var objs []string
	for o := range spec.Objects {
		objs = append(objs, o)
	}
	sort.Strings(objs)
	return objs
}
