// Command vigil-agent runs on each monitored endpoint. It links none of the
// server, so it stays small and has few dependencies.
package main

import (
	"fmt"
	"io"
	"os"
)

// version is the agent's release; the linker may override it.
var version = "0.1.0-dev"

func main() {
	os.Exit(run(os.Args[1:], os.Stdout, os.Stderr))
}

func run(args []string, stdout, stderr io.Writer) int {
	if len(args) == 0 || args[0] == "-h" || args[0] == "--help" || args[0] == "help" {
		fmt.Fprintln(stdout, "Usage: vigil-agent COMMAND\n\nCommands:\n  version      print the version")
		if len(args) == 0 {
			return 1
		}
		return 0
	}
	switch args[0] {
	case "version":
		if len(args) > 1 {
			fmt.Fprintf(stderr, "vigil-agent: version takes no arguments\n")
			return 1
		}
		fmt.Fprintln(stdout, "vigil-agent "+version)
		return 0
	}
	fmt.Fprintf(stderr, "vigil-agent: unknown command %q (see 'vigil-agent --help')\n", args[0])
	return 1
}
