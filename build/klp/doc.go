// Package klp generates and links the livepatch module from diff results:
// klp_patch, klp_object and klp_func structures, the kbuild link, and the
// post-link rewrite of relocations to non-exported symbols into .klp.rela
// sections with .klp.sym symbols.
package klp
