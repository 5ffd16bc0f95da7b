package runtimebuild

import (
	"testing"

	"github.com/stretchr/testify/assert"
)

func TestSanitize(t *testing.T) {
	tests := []struct {
		name, in, want string
	}{
		{name: "plain text", in: "INFO[0001] Unpacking rootfs as cmd RUN /bin/extend requires it.", want: "INFO[0001] Unpacking rootfs as cmd RUN /bin/extend requires it."},
		{name: "empty", in: "", want: ""},
		{name: "colour", in: "\x1b[31mERROR\x1b[0m: failed", want: "ERROR: failed"},
		{name: "bold colour with parameters", in: "\x1b[1;32;40mok\x1b[m", want: "ok"},
		{name: "colour with colon sub-parameters", in: "\x1b[38:5:196mred\x1b[39m", want: "red"},
		{name: "cursor movement and erase", in: "\x1b[2K\x1b[1Gdone\x1b[?25h", want: "done"},
		{name: "osc title ended by BEL", in: "\x1b]0;pip install\x07Collecting requests", want: "Collecting requests"},
		{name: "osc hyperlink ended by ST", in: "see \x1b]8;;https://example.com\x1b\\the docs\x1b]8;;\x1b\\.", want: "see the docs."},
		{name: "short escapes", in: "a\x1bMb\x1b=c\x1b7d\x1b8e", want: "abcde"},
		{name: "character set selection", in: "\x1b[1mbold\x1b(B\x1b[m plain", want: "bold plain"},
		{name: "unterminated CSI", in: "cut\x1b[", want: "cut"},
		{name: "tab becomes a space", in: "a\tb\t\tc", want: "a b  c"},
		{name: "carriage return and newline", in: "progress 10%\rprogress 100%\r\n", want: "progress 10%progress 100%"},
		{name: "other control characters", in: "a\x00b\x07c\x08d\x0be\x0cf\x7fg\x1b", want: "abcdefg"},
		{name: "C1 control characters", in: "a\u0085b\u009bc\u009fd", want: "abcd"},
		{name: "UTF-8 kept", in: "Größe: 日本語 ✓ 🚀 naïve", want: "Größe: 日本語 ✓ 🚀 naïve"},
		{name: "no-break space kept", in: "a\u00a0b", want: "a\u00a0b"},
		{name: "colour around UTF-8", in: "\x1b[33m⚠ Warnung\x1b[0m", want: "⚠ Warnung"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := Sanitize(tt.in)
			assert.Equal(t, tt.want, got)
			for _, r := range got {
				assert.False(t, r < 0x20 || r == 0x7f || r >= 0x80 && r < 0xa0, "control character %U left in %q", r, got)
			}
		})
	}
}
