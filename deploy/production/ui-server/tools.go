//go:build tools

// Names the UI server's main package so `go mod tidy` records its dependencies; the build
// itself is `go build github.com/temporalio/ui-server/v2/cmd/server` in this module.
package tools

import _ "github.com/temporalio/ui-server/v2/cmd/server"
