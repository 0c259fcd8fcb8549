// The pod sandbox ("pause") process of the test cluster: it holds the pod's namespaces and
// does nothing else. No registry is reachable here, so scripts/k8s/cluster.sh builds this
// static binary and packs it into the sandbox image itself. As PID 1 it reaps orphans and
// exits on SIGINT/SIGTERM, as the upstream pause does.
package main

import (
	"os"
	"os/signal"
	"syscall"
)

func main() {
	sigs := make(chan os.Signal, 4)
	signal.Notify(sigs, syscall.SIGINT, syscall.SIGTERM, syscall.SIGCHLD)
	for s := range sigs {
		if s != syscall.SIGCHLD {
			os.Exit(0)
		}
		for {
			pid, err := syscall.Wait4(-1, nil, syscall.WNOHANG, nil)
			if pid <= 0 || err != nil {
				break
			}
		}
	}
}
