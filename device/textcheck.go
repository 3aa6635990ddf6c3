package device

import (
	"encoding/json"
	"fmt"
	"net/http"
	"sort"
	"strconv"
	"strings"

	"github.com/mesi/mconnect/app/problem"
)

// multiLine names the result fields that may hold line breaks (the HL7
// and GDT encoders split them into lines); every other text field of a
// result is one line in the EHR's formats.
var multiLine = map[string]bool{"result.interpretation": true}

// checkResultText refuses a line break or other control character in a
// one-line field of the result part (a field name of HL7 OBX, a GDT line),
// and a control character other than line breaks and tabs in a multi-line
// one. It names the first offending field in document order of keys.
func checkResultText(data []byte) *problem.Problem {
	var v any
	if err := json.Unmarshal(data, &v); err != nil {
		return jsonProblem(err, 0, "result.")
	}
	return walkText("result", v)
}

func walkText(path string, v any) *problem.Problem {
	switch x := v.(type) {
	case string:
		return textProblem(path, x)
	case []any:
		for i, e := range x {
			if p := walkText(path+"."+strconv.Itoa(i), e); p != nil {
				return p
			}
		}
	case map[string]any:
		keys := make([]string, 0, len(x))
		for k := range x {
			keys = append(keys, k)
		}
		sort.Strings(keys)
		for _, k := range keys {
			if p := walkText(path+"."+k, x[k]); p != nil {
				return p
			}
		}
	}
	return nil
}

func textProblem(path, s string) *problem.Problem {
	i := strings.IndexFunc(s, func(r rune) bool {
		if multiLine[path] && (r == '\n' || r == '\r' || r == '\t') {
			return false
		}
		return r < 0x20 || r == 0x7f
	})
	if i < 0 {
		return nil
	}
	what := fmt.Sprintf("a control character (U+%04X)", s[i])
	if s[i] == '\n' || s[i] == '\r' {
		what = "a line break"
	}
	return problem.New(http.StatusUnprocessableEntity, "invalid-result", "Invalid result",
		fmt.Sprintf("%s holds %s at character %d; it must be one line of text", path, what, len([]rune(s[:i]))+1)).WithField(path)
}
