package harness

import "testing"

func TestExampleBlock(t *testing.T) {
	md := "intro\n<!-- example: labels -->\n```yaml\na: 1\nb: 2\n```\nafter\n"
	got, err := exampleBlock(md, "labels")
	if err != nil || got != "a: 1\nb: 2\n" {
		t.Errorf("exampleBlock = %q, %v; want the block's lines", got, err)
	}
	if _, err := exampleBlock(md, "other"); err == nil {
		t.Error("exampleBlock(missing) = nil error")
	}
}

func TestSubstitute(t *testing.T) {
	got, err := Substitute("https://app.example.com and app.example.com", map[string]string{
		"app.example.com":         "app.localhost:1",
		"https://app.example.com": "http://app.localhost:1",
	})
	if err != nil || got != "http://app.localhost:1 and app.localhost:1" {
		t.Errorf("Substitute = %q, %v", got, err)
	}
	if _, err := Substitute("x", map[string]string{"y": "z"}); err == nil {
		t.Error("Substitute with a missing placeholder = nil error")
	}
}
