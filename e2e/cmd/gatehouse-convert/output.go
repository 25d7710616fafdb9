package main

import (
	"fmt"
	"io"
	"strconv"
	"strings"

	"gopkg.in/yaml.v3"
)

// optionsNode returns the options as a YAML mapping in Config order.
func optionsNode(o map[string]any) *yaml.Node {
	m := &yaml.Node{Kind: yaml.MappingNode}
	for _, k := range optionOrder(o) {
		m.Content = append(m.Content, scalar(k))
		switch v := o[k].(type) {
		case []string:
			seq := &yaml.Node{Kind: yaml.SequenceNode}
			for _, s := range v {
				seq.Content = append(seq.Content, scalar(s))
			}
			m.Content = append(m.Content, seq)
		case bool:
			m.Content = append(m.Content, &yaml.Node{Kind: yaml.ScalarNode, Tag: "!!bool", Value: strconv.FormatBool(v)})
		default:
			m.Content = append(m.Content, scalar(fmt.Sprint(v)))
		}
	}
	return m
}

// scalar is a YAML string node.
func scalar(s string) *yaml.Node {
	return &yaml.Node{Kind: yaml.ScalarNode, Tag: "!!str", Value: s}
}

// nest wraps node in mappings under keys, outermost first.
func nest(node *yaml.Node, keys ...string) *yaml.Node {
	for i := len(keys) - 1; i >= 0; i-- {
		node = &yaml.Node{Kind: yaml.MappingNode, Content: []*yaml.Node{scalar(keys[i]), node}}
	}
	return node
}

// writeYAML encodes a node with two-space indentation.
func writeYAML(w io.Writer, n *yaml.Node) error {
	enc := yaml.NewEncoder(w)
	enc.SetIndent(2)
	if err := enc.Encode(n); err != nil {
		return err
	}
	return enc.Close()
}

// writeFile writes the file provider's dynamic configuration.
func writeFile(w io.Writer, name string, o map[string]any) error {
	return writeYAML(w, nest(optionsNode(o), "http", "middlewares", name, "plugin", "gatehouse"))
}

// writeKubernetes writes a Traefik Middleware resource.
func writeKubernetes(w io.Writer, name, namespace string, o map[string]any) error {
	meta := nest(scalar(name), "name")
	if namespace != "" {
		meta.Content = append(meta.Content, scalar("namespace"), scalar(namespace))
	}
	doc := &yaml.Node{Kind: yaml.MappingNode, Content: []*yaml.Node{
		scalar("apiVersion"), scalar("traefik.io/v1alpha1"),
		scalar("kind"), scalar("Middleware"),
		scalar("metadata"), meta,
		scalar("spec"), nest(optionsNode(o), "plugin", "gatehouse"),
	}}
	return writeYAML(w, doc)
}

// writeLabels writes Docker labels as a Compose labels list: lists are
// joined with commas and $ is doubled for Compose. It returns the options
// a label cannot hold (a list entry with a comma).
func writeLabels(w io.Writer, name string, o map[string]any) ([]string, error) {
	var bad []string
	seq := &yaml.Node{Kind: yaml.SequenceNode}
	for _, k := range optionOrder(o) {
		var val string
		switch v := o[k].(type) {
		case []string:
			for _, s := range v {
				if strings.Contains(s, ",") {
					bad = append(bad, k)
					break
				}
			}
			val = strings.Join(v, ",")
		default:
			val = fmt.Sprint(v)
		}
		label := fmt.Sprintf("traefik.http.middlewares.%s.plugin.gatehouse.%s=%s", name, k, strings.ReplaceAll(val, "$", "$$"))
		seq.Content = append(seq.Content, scalar(label))
	}
	return bad, writeYAML(w, nest(seq, "labels"))
}
