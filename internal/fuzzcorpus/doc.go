// Package fuzzcorpus reads the seed corpora of Go fuzz targets, the files
// under testdata/fuzz/<FuzzTarget>/ that `go test` runs as regression
// inputs, so that a plain Test can run the same inputs: `yaegi test`, which
// checks that a package interprets as Traefik runs it, skips fuzz targets.
//
// It reads the "go test fuzz v1" file format and nothing else; it does not
// write corpus files (`go test -fuzz` does) and knows nothing of what the
// inputs mean. Only tests import it.
package fuzzcorpus
