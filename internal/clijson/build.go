// SPDX-License-Identifier: Apache-2.0

package clijson

import (
	"encoding/json"
	"fmt"
	"io"
)

// AddBuild records a finished build: res is a *build.Result, read through
// its JSON form (pinned by build's schema tests), since this package
// imports nothing of klpkit above it. Name, Module, the objects (as build
// marshals them), their changed and new functions, and the warnings as
// findings.
func (r *Result) AddBuild(res any) error {
	b, err := json.Marshal(res)
	if err != nil {
		return fmt.Errorf("build result: %w", err)
	}
	var br struct {
		Name     string            `json:"name"`
		Module   string            `json:"module"`
		Objects  []json.RawMessage `json:"objects"`
		Warnings []string          `json:"warnings"`
	}
	if err := json.Unmarshal(b, &br); err != nil {
		return fmt.Errorf("build result: %w", err)
	}
	objects := []json.RawMessage{}
	for _, raw := range br.Objects {
		var o struct {
			Path    string   `json:"path"`
			Target  string   `json:"target"`
			Changed []string `json:"changed"`
			New     []string `json:"new"`
		}
		if err := json.Unmarshal(raw, &o); err != nil {
			return fmt.Errorf("build result object %s: %w", raw, err)
		}
		objects = append(objects, raw)
		r.AddFunctions(o.Path, o.Target, o.Changed, o.New)
	}
	r.Name, r.Module, r.Objects = br.Name, br.Module, objects
	r.AddWarnings(br.Warnings)
	return nil
}

// End completes r for a run that ended with *errp (timings from c, OK,
// Error) and writes it to w, the end of every --json run; a failed write
// becomes *errp when the run had no error.
func (r *Result) End(c *Clock, errp *error, w io.Writer) {
	c.Done(r)
	r.OK = *errp == nil
	if *errp != nil {
		r.Error = (*errp).Error()
	}
	if werr := r.Write(w); werr != nil && *errp == nil {
		*errp = werr
	}
}
