package actionloop

import (
	"bufio"
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"runtime/debug"
)

// Main is the action contract: the activation's parameters in, the result out.
type Main func(args map[string]any) map[string]any

// maxLine bounds one activation line. The platform caps a request near 1 MiB
// plus its envelope; the bound only keeps a runaway line from exhausting the
// action's memory.
const maxLine = 32 << 20

// resultsFD is the file descriptor the proxy reads results from.
const resultsFD = 3

// Run serves activations on stdin and file descriptor 3 until stdin closes. It
// is what an action's main calls. It exits the process with status 1 when the
// streams fail, as the proxy then has nobody to talk to.
func Run(main Main) {
	out := os.NewFile(resultsFD, "actionloop-results")
	err := Serve(os.Stdin, out, main)
	out.Close()
	if err != nil {
		fmt.Fprintln(os.Stderr, "actionloop:", err)
		os.Exit(1)
	}
}

// Serve is Run over explicit streams: in carries activations, out (file
// descriptor 3 in production) receives the acknowledgement and one result line
// per activation. It returns nil when in ends and an error when a stream fails.
//
// Every line gets exactly one answer, so the proxy never waits forever: a line
// that is not a JSON object, a line over the size bound, a panic in main and a
// result that cannot be encoded are each answered {"error": "..."} and the loop
// goes on. A panic's stack goes to stderr, which is the activation log.
//
// Serve changes the process environment (__OW_* variables) and so must not run
// twice at once in one process.
func Serve(in io.Reader, out io.Writer, main Main) error {
	return serve(in, out, main, maxLine)
}

func serve(in io.Reader, out io.Writer, main Main, limit int) error {
	if _, err := io.WriteString(out, "{\"ok\":true}\n"); err != nil {
		return fmt.Errorf("writing the acknowledgement: %w", err)
	}
	r := bufio.NewReader(in)
	env := newActivationEnv()
	defer env.clear()
	for {
		line, tooLong, err := readLine(r, limit)
		if err != nil && !errors.Is(err, io.EOF) {
			return fmt.Errorf("reading an activation: %w", err)
		}
		// A whole line always gets an answer, even a blank one, as the proxy
		// waits for one; what is left at the end of the input only when it
		// holds something.
		if tooLong || err == nil || len(bytes.TrimSpace(line)) > 0 {
			result := activate(line, tooLong, limit, env, main)
			if werr := writeLine(out, result); werr != nil {
				return fmt.Errorf("writing a result: %w", werr)
			}
		}
		if err != nil { // io.EOF: the proxy closed stdin
			return nil
		}
	}
}

// activate runs one activation line and returns the result to send back.
func activate(line []byte, tooLong bool, limit int, env *activationEnv, main Main) map[string]any {
	if tooLong {
		return errorResult(fmt.Sprintf("activation larger than %d bytes", limit))
	}
	var msg map[string]any
	if err := json.Unmarshal(line, &msg); err != nil || msg == nil {
		if err == nil {
			err = errors.New("not a JSON object")
		}
		return errorResult("invalid activation: " + err.Error())
	}
	args := map[string]any{}
	switch v := msg["value"].(type) {
	case nil:
	case map[string]any:
		args = v
	default:
		return errorResult(fmt.Sprintf("invalid activation: value is a JSON %T, not an object", v))
	}
	env.set(msg)
	return call(main, args)
}

// call runs main, turning a panic into an error result so the warm process
// keeps serving the next activations.
func call(main Main, args map[string]any) (result map[string]any) {
	defer func() {
		if p := recover(); p != nil {
			fmt.Fprintf(os.Stderr, "action panicked: %v\n%s", p, debug.Stack())
			result = errorResult(fmt.Sprintf("action panicked: %v", p))
		}
	}()
	result = main(args)
	if result == nil {
		result = map[string]any{}
	}
	return result
}

func errorResult(msg string) map[string]any { return map[string]any{"error": msg} }

// writeLine writes v as one JSON line. encoding/json escapes newlines inside
// strings; removing any left keeps the one-line contract whatever v holds.
func writeLine(out io.Writer, v map[string]any) error {
	var buf bytes.Buffer
	enc := json.NewEncoder(&buf)
	enc.SetEscapeHTML(false)
	if err := enc.Encode(v); err != nil {
		buf.Reset()
		if err := enc.Encode(errorResult("encoding the result: " + err.Error())); err != nil {
			return err
		}
	}
	b := bytes.ReplaceAll(buf.Bytes(), []byte("\n"), nil)
	_, err := out.Write(append(b, '\n'))
	return err
}

// readLine reads up to and including the next newline. A line longer than
// limit is consumed and reported as tooLong rather than kept in memory. At the
// end of the input it returns what is left with io.EOF.
func readLine(r *bufio.Reader, limit int) (line []byte, tooLong bool, err error) {
	for {
		chunk, err := r.ReadSlice('\n')
		if !tooLong {
			if len(line)+len(chunk) > limit+1 { // +1: the newline itself
				tooLong, line = true, nil
			} else {
				line = append(line, chunk...)
			}
		}
		if errors.Is(err, bufio.ErrBufferFull) {
			continue
		}
		return line, tooLong, err
	}
}
