// Command pause is the local node's sandbox ("pause") container: it holds a
// Pod's namespaces open by doing nothing until it is asked to stop. SIGTERM
// or SIGINT ends it with status 0. Unlike upstream's pause it reaps no
// orphans: Pods of the local stack do not share their process namespace.
// It is built static (CGO_ENABLED=0) by dev/stepimages, which lays it out as
// /pause in the image the node's containerd runs.
package main

import (
	"os"
	"os/signal"
	"syscall"
)

func main() {
	// As PID 1 of its namespace, the process gets only the signals it
	// handles: without Notify a SIGTERM would be ignored, not fatal.
	stop := make(chan os.Signal, 1)
	signal.Notify(stop, syscall.SIGTERM, syscall.SIGINT)
	<-stop
}
