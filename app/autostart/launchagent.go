package autostart

import (
	"bytes"
	"encoding/xml"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
)

// Label is the LaunchAgent's label and the plist's base name.
const Label = "com.mesi.mconnect"

// LaunchAgent is the Manager of macOS: ~/Library/LaunchAgents/com.mesi.mconnect.plist,
// which launchd loads at the next login (RunAtLoad), in the person's GUI
// session only (LimitLoadToSessionType Aqua).
type LaunchAgent struct {
	path    string
	command []string
}

// NewLaunchAgent returns the manager of the plist in dir (the user's
// ~/Library/LaunchAgents on macOS).
func NewLaunchAgent(dir, exe string, args ...string) *LaunchAgent {
	return &LaunchAgent{path: filepath.Join(dir, Label+".plist"), command: append([]string{exe}, args...)}
}

// Where is the plist's path.
func (l *LaunchAgent) Where() string { return l.path }

// Enabled reads the plist.
func (l *LaunchAgent) Enabled() (bool, error) { return enabled(l) }

// SetEnabled writes (on) or removes (off) the plist.
func (l *LaunchAgent) SetEnabled(on bool) error {
	if on {
		return writeFileAtomic(l.path, renderPlist(l.command), 0o644)
	}
	return removeFile(l.path)
}

// Inspect reads the plist and says whether it starts this program at login.
func (l *LaunchAgent) Inspect() (Status, error) {
	data, err := os.ReadFile(l.path)
	if errors.Is(err, fs.ErrNotExist) {
		return Status{Where: l.path, Reason: reasonNoEntry}, nil
	}
	st := Status{Where: l.path, Exists: true}
	if err != nil {
		return st, fmt.Errorf("autostart: %w", err)
	}
	p, err := parsePlist(data)
	if err != nil {
		return st, fmt.Errorf("autostart: %s: %w", l.path, err)
	}
	st.Command = p.args
	if p.program != "" {
		if len(st.Command) == 0 {
			st.Command = []string{p.program}
		} else {
			st.Command = append([]string{p.program}, st.Command[1:]...)
		}
	}
	switch {
	case p.disabled:
		st.Reason = fmt.Sprintf(reasonDisabled, "Disabled is true")
	case !p.runAtLoad:
		st.Reason = "RunAtLoad is not true: it does not start at login"
	case len(st.Command) == 0:
		st.Reason = reasonNoCmd
	case !sameFile(st.Command[0], l.command[0]):
		st.Reason = fmt.Sprintf(reasonOther, strings.Join(st.Command, " "))
	default:
		st.Enabled = true
	}
	return st, nil
}

// renderPlist writes the LaunchAgent that starts args at login.
func renderPlist(args []string) []byte {
	var b bytes.Buffer
	b.WriteString(xml.Header)
	b.WriteString(`<!DOCTYPE plist PUBLIC "-//Apple//DTD PLIST 1.0//EN" "http://www.apple.com/DTDs/PropertyList-1.0.dtd">` + "\n")
	b.WriteString("<plist version=\"1.0\">\n<dict>\n")
	str := func(s string) {
		b.WriteString("<string>")
		xml.EscapeText(&b, []byte(s))
		b.WriteString("</string>")
	}
	b.WriteString("\t<key>Label</key>\n\t")
	str(Label)
	b.WriteString("\n\t<key>ProgramArguments</key>\n\t<array>\n")
	for _, a := range args {
		b.WriteString("\t\t")
		str(a)
		b.WriteString("\n")
	}
	b.WriteString("\t</array>\n")
	b.WriteString("\t<key>RunAtLoad</key>\n\t<true/>\n")
	b.WriteString("\t<key>ProcessType</key>\n\t")
	str("Interactive")
	b.WriteString("\n\t<key>LimitLoadToSessionType</key>\n\t")
	str("Aqua")
	b.WriteString("\n</dict>\n</plist>\n")
	return b.Bytes()
}

// agentPlist is what Inspect needs of a LaunchAgent plist.
type agentPlist struct {
	label, program      string
	args                []string
	runAtLoad, disabled bool
}

// plistNode is one XML element of a plist.
type plistNode struct {
	XMLName xml.Name
	Text    string      `xml:",chardata"`
	Nodes   []plistNode `xml:",any"`
}

// parsePlist reads the top-level dict of an XML property list: the keys a
// LaunchAgent's start depends on (others are skipped, whatever their type).
func parsePlist(data []byte) (agentPlist, error) {
	var p agentPlist
	if bytes.HasPrefix(data, []byte("bplist")) {
		return p, fmt.Errorf("a binary property list; only XML plists are read")
	}
	dec := xml.NewDecoder(bytes.NewReader(data))
	dec.Strict = true
	var root plistNode
	if err := dec.Decode(&root); err != nil {
		return p, fmt.Errorf("not an XML property list: %w", err)
	}
	// Nothing but whitespace may follow the root element.
	for {
		tok, err := dec.Token()
		if err == io.EOF {
			break
		}
		if err != nil {
			return p, fmt.Errorf("after </plist>: %w", err)
		}
		switch t := tok.(type) {
		case xml.CharData:
			if len(bytes.TrimSpace(t)) == 0 {
				continue
			}
		case xml.Comment, xml.ProcInst:
			continue
		}
		return p, fmt.Errorf("content after </plist>")
	}
	if root.XMLName.Local != "plist" {
		return p, fmt.Errorf("root element is <%s>, not <plist>", root.XMLName.Local)
	}
	if len(root.Nodes) != 1 || root.Nodes[0].XMLName.Local != "dict" {
		return p, fmt.Errorf("<plist> does not hold one <dict>")
	}
	d := root.Nodes[0].Nodes
	seen := map[string]bool{}
	for i := 0; i < len(d); i += 2 {
		if d[i].XMLName.Local != "key" {
			return p, fmt.Errorf("dict: <%s> where a <key> belongs", d[i].XMLName.Local)
		}
		k := d[i].Text
		if i+1 == len(d) {
			return p, fmt.Errorf("dict: key %s has no value", k)
		}
		if seen[k] {
			return p, fmt.Errorf("dict: key %s given twice", k)
		}
		seen[k] = true
		v := d[i+1]
		var err error
		switch k {
		case "Label":
			p.label, err = plistString(k, v)
		case "Program":
			p.program, err = plistString(k, v)
		case "ProgramArguments":
			if v.XMLName.Local != "array" {
				return p, fmt.Errorf("ProgramArguments: <%s>, not <array>", v.XMLName.Local)
			}
			for _, a := range v.Nodes {
				s, err := plistString(k, a)
				if err != nil {
					return p, err
				}
				p.args = append(p.args, s)
			}
		case "RunAtLoad":
			p.runAtLoad, err = plistBool(k, v)
		case "Disabled":
			p.disabled, err = plistBool(k, v)
		}
		if err != nil {
			return p, err
		}
	}
	return p, nil
}

func plistString(k string, n plistNode) (string, error) {
	if n.XMLName.Local != "string" || len(n.Nodes) > 0 {
		return "", fmt.Errorf("%s: <%s>, not <string>", k, n.XMLName.Local)
	}
	return n.Text, nil
}

func plistBool(k string, n plistNode) (bool, error) {
	switch n.XMLName.Local {
	case "true":
		return true, nil
	case "false":
		return false, nil
	}
	return false, fmt.Errorf("%s: <%s>, not <true/> or <false/>", k, n.XMLName.Local)
}
