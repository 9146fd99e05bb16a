// Package dangv2 replaces the Dang v2 module SDK in this build: its Go module (github.com/vito/dang/v2)
// is not served by the Go module proxy reachable here. Modules written for Dang v2 fail with a clear
// error; everything else in the engine is unchanged.
package dangv2

import (
	"context"
	"errors"

	"github.com/dagger/dagger/core"
	"github.com/dagger/dagger/dagql"
)

var errUnavailable = errors.New("the Dang v2 module SDK is not part of this Dagger engine build")

type Impl struct{}

func (Impl) ModuleTypes(
	context.Context,
	*core.SchemaBuilder,
	dagql.ObjectResult[*core.ModuleSource],
	dagql.ObjectResult[*core.Module],
) (dagql.ObjectResult[*core.Module], error) {
	return dagql.ObjectResult[*core.Module]{}, errUnavailable
}

func (Impl) Runtime(
	context.Context,
	*core.SchemaBuilder,
	dagql.ObjectResult[*core.ModuleSource],
) (core.ModuleRuntime, error) {
	return nil, errUnavailable
}
