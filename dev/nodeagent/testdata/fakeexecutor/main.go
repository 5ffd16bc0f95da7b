// Command fakeexecutor stands in for the Kaniko executor in the sandbox tests:
// a static binary that reports from inside the sandbox what it sees and
// does what its flags say, in order.
//
//	--echo=TEXT     print TEXT on stdout
//	--stderr=TEXT   print TEXT on stderr
//	--pid           print "pid N"
//	--env           print the environment, one "env NAME=value" a line
//	--lstat=PATH    print "lstat PATH KIND" (regular, symlink, dir, other, missing)
//	--cat=PATH      print "cat PATH CONTENT"
//	--message=TEXT  write TEXT to /dev/termination-log
//	--write=PATH=TEXT write TEXT to PATH
//	--sleep=DUR     sleep
//	--exit=N        exit with N
package main

import (
	"fmt"
	"os"
	"strconv"
	"strings"
	"time"
)

func main() {
	for _, arg := range os.Args[1:] {
		name, value, _ := strings.Cut(arg, "=")
		switch name {
		case "--echo":
			fmt.Println(value)
		case "--stderr":
			fmt.Fprintln(os.Stderr, value)
		case "--pid":
			fmt.Println("pid", os.Getpid())
		case "--env":
			for _, kv := range os.Environ() {
				fmt.Println("env", kv)
			}
		case "--lstat":
			fmt.Println("lstat", value, kind(value))
		case "--cat":
			b, err := os.ReadFile(value)
			if err != nil {
				fmt.Println("cat", value, "error:", err)
				continue
			}
			fmt.Println("cat", value, strings.TrimSpace(string(b)))
		case "--message":
			if err := os.WriteFile("/dev/termination-log", []byte(value), 0o644); err != nil {
				fmt.Fprintln(os.Stderr, err)
				os.Exit(2)
			}
		case "--write":
			path, text, _ := strings.Cut(value, "=")
			if err := os.WriteFile(path, []byte(text), 0o644); err != nil {
				fmt.Fprintln(os.Stderr, err)
				os.Exit(2)
			}
		case "--sleep":
			d, _ := time.ParseDuration(value)
			time.Sleep(d)
		case "--exit":
			n, _ := strconv.Atoi(value)
			os.Exit(n)
		default:
			fmt.Fprintln(os.Stderr, "unknown flag", arg)
			os.Exit(2)
		}
	}
}

func kind(p string) string {
	fi, err := os.Lstat(p)
	switch {
	case err != nil:
		return "missing"
	case fi.Mode()&os.ModeSymlink != 0:
		return "symlink"
	case fi.Mode().IsRegular():
		return "regular"
	case fi.IsDir():
		return "dir"
	}
	return "other"
}
