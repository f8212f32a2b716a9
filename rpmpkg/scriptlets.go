// SPDX-License-Identifier: Apache-2.0

package rpmpkg

import (
	"strings"
)

// The livepatch scriptlets. rpm passes $1 = how many instances of the
// package will be installed when the transaction is done: %pre/%post see 1
// on install and 2 on upgrade; %preun/%postun see 0 on erase and 1 on
// upgrade. On upgrade rpm runs the new %post before the old %preun, so the
// old %preun must never unload a live patch then, or it would remove the
// patch the new package just loaded (Photon's template ignores $1 and has
// that bug); it unloads only its own module once the new patch replaced it.
//
// Names are checked by Package validation (letters, digits, _.+-), so
// single quotes are safe. unload takes the in-kernel module name; uninstall
// takes the installed file's name (Package.Name), which differs from it when
// Package.ModuleName is set.

// whereScript sets where=live (the running system, on the target kernel),
// other (the running system, on another kernel) or image (a root that is not
// the running system). rpm --root, tdnf --installroot and chroot run the
// scriptlets chrooted into the image, and rpm tells them nothing of it
// (RPM_INSTALL_PREFIX is for relocatable packages only), so the test is
// whether / is PID 1's root, as systemd-detect-virt --chroot does; an image
// without /proc fails it too. uname -r is the build host's kernel there, so
// the scriptlets always name the target kernel to kpatch (-k).
const whereScript = `if [ / -ef ` + pid1Root + ` ]; then
	running=$(uname -r)
	if [ "$running" = "$target" ]; then where=live; else where=other; fi
else
	where=image
fi
`

// pid1Root, modulesDir and the sysfs directories are what the scriptlets
// test; scriptlet tests point them elsewhere.
const (
	pid1Root        = "/proc/1/root"
	modulesDir      = "/lib/modules/"
	sysModuleDir    = "/sys/module/"
	sysLivepatchDir = "/sys/kernel/livepatch/"
)

const preScript = `# Refuse a running system whose kernel is neither the target nor installed.
mod=@MODULE@
target=@KERNEL@
` + whereScript + `if [ "$where" = other ] && [ ! -d ` + modulesDir + `"$target" ]; then
	echo "ABORT: livepatch $mod is for kernel $target, but the running kernel is $running and $target is not installed (no ` + modulesDir + `$target)" >&2
	exit 1
fi
exit 0
`

const postScript = `ko=@FILE@
mod=@MODULE@
installed=@INSTALLED@
target=@KERNEL@
` + whereScript + `upgrade=
if [ "${1:-1}" -gt 1 ]; then
	# Upgrade. Where the old package's module has this one's name, it must
	# leave before the new one can load (a cumulative series that names
	# each version's module apart is replaced atomically instead, and the
	# old %preun takes the replaced module out). Drop the old boot copy
	# too. (No /dev/null redirections: image builds run rpm --root without
	# /dev.)
	if [ "$where" = live ] && [ -d ` + sysModuleDir + `"$mod" ]; then
		kpatch unload "$mod" || upgrade=stuck
	fi
	kpatch uninstall -k "$target" "$installed" || :
fi
if [ "$where" != live ]; then
	# Nothing to load into: install for boot, and fail if that fails.
	if ! kpatch install -k "$target" "$ko"; then
		echo "livepatch $mod: kpatch install $ko for kernel $target failed" >&2
		exit 1
	fi
	if [ "$where" = image ]; then
		echo "livepatch $mod: not the running system (an image root): installed for kernel $target, not loaded; it loads when $target boots"
	else
		echo "livepatch $mod: the running kernel is $running: installed for kernel $target, not loaded; it loads when $target boots"
	fi
	exit 0
fi
if ! kpatch install -k "$target" "$ko"; then
	echo "livepatch $mod: kpatch install $ko failed; it will not load at boot" >&2
fi
if ! kpatch load "$ko"; then
	nl='
'
	case $upgrade$nl$(kpatch list) in
	stuck*"$nl$mod ["*)
		# The old version could not leave (before Linux 5.1 a patch
		# loaded after it holds it in place) and is still live: it
		# stays until reboot, and this version takes over at boot.
		echo "livepatch $mod: the previous version stays live until reboot; this version is installed and loads at boot" >&2
		exit 0 ;;
	esac
	# A patch that does not load now must not be loaded at boot either.
	kpatch uninstall -k "$target" "$installed" || :
	echo "livepatch $mod: kpatch load $ko failed; the running kernel is not patched" >&2
	exit 1
fi
exit 0
`

const preunScript = `mod=@MODULE@
installed=@INSTALLED@
target=@KERNEL@
` + whereScript + `if [ "${1:-0}" -ge 1 ]; then
	# Upgrade: the new package's %post has loaded its patch. If that
	# replaced this one atomically (another module name), this module is
	# still loaded but inert: its patch has left the kernel's list, or is
	# disabled on its way out. Take it out; a patch still enabled (the new
	# one stacked on it, or kept this name) stays.
	lp=` + sysLivepatchDir + `"$mod"
	if [ "$where" = live ] && [ -d ` + sysModuleDir + `"$mod" ]; then
		enabled=1
		if [ ! -d "$lp" ]; then
			enabled=0
		elif [ -r "$lp/enabled" ]; then
			read -r enabled < "$lp/enabled" || enabled=1
		fi
		if [ "$enabled" = 0 ]; then
			kpatch unload "$mod" || echo "livepatch $mod: replaced by the new version, but its module stays loaded (inert) until reboot" >&2
		fi
	fi
	exit 0
fi
# Never fail: a failing %preun would wedge rpm -e.
if [ "$where" = live ]; then
	kpatch unload "$mod" || echo "livepatch $mod: not unloaded (already unloaded?)" >&2
fi
kpatch uninstall -k "$target" "$installed" || echo "livepatch $mod: not uninstalled (already uninstalled?)" >&2
exit 0
`

// livepatchScriptlets: module is the in-kernel name, installed the name
// kpatch uninstall finds the installed file by, file the packaged path.
func livepatchScriptlets(kernel, module, installed, file string) Scriptlets {
	r := strings.NewReplacer("@KERNEL@", shellQuote(kernel), "@MODULE@", shellQuote(module),
		"@INSTALLED@", shellQuote(installed), "@FILE@", shellQuote(file))
	return Scriptlets{
		Pre:   r.Replace(preScript),
		Post:  r.Replace(postScript),
		PreUn: r.Replace(preunScript),
	}
}

func shellQuote(s string) string {
	return "'" + strings.ReplaceAll(s, "'", `'\''`) + "'"
}
