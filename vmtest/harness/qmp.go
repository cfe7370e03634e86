// SPDX-License-Identifier: BSD-2-Clause

package harness

import (
	"bufio"
	"encoding/json"
	"fmt"
	"net"
)

// qmpConn is a QEMU Machine Protocol connection: commands and their
// replies in order; asynchronous events are skipped.
type qmpConn struct {
	c net.Conn
	r *bufio.Reader
}

// dialQMP connects to the socket and leaves the capabilities negotiation.
func dialQMP(path string) (*qmpConn, error) {
	c, err := net.Dial("unix", path)
	if err != nil {
		return nil, err
	}
	q := &qmpConn{c: c, r: bufio.NewReader(c)}
	var greeting struct {
		QMP json.RawMessage `json:"QMP"`
	}
	if err := q.read(&greeting); err != nil || greeting.QMP == nil {
		c.Close()
		return nil, fmt.Errorf("qmp: no greeting: %v", err)
	}
	if err := q.execute("qmp_capabilities"); err != nil {
		c.Close()
		return nil, err
	}
	return q, nil
}

func (q *qmpConn) read(v any) error {
	line, err := q.r.ReadBytes('\n')
	if err != nil {
		return err
	}
	return json.Unmarshal(line, v)
}

// execute runs a command and waits for its reply.
func (q *qmpConn) execute(cmd string) error {
	data, _ := json.Marshal(map[string]string{"execute": cmd})
	if _, err := q.c.Write(append(data, '\n')); err != nil {
		return err
	}
	for {
		var reply struct {
			Return json.RawMessage `json:"return"`
			Error  *struct {
				Desc string `json:"desc"`
			} `json:"error"`
			Event string `json:"event"`
		}
		if err := q.read(&reply); err != nil {
			if cmd == "quit" {
				return nil // QEMU closes the socket as it quits
			}
			return fmt.Errorf("qmp %s: %w", cmd, err)
		}
		switch {
		case reply.Event != "":
			continue
		case reply.Error != nil:
			return fmt.Errorf("qmp %s: %s", cmd, reply.Error.Desc)
		default:
			return nil
		}
	}
}

func (q *qmpConn) close() { q.c.Close() }
