// Package cli holds what both command-line programs share: the one-line
// error convention, JSON and table output, and viper wiring of flags to
// MAW_ environment variables and a config file.
package cli

import (
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"os"
	"strings"
	"text/tabwriter"

	"github.com/spf13/cobra"
	"github.com/spf13/pflag"
	"github.com/spf13/viper"
)

// Main runs the root command (see Run) and exits with its code: 0 on
// success, 1 with one line "error: ..." on stderr otherwise.
func Main(root *cobra.Command) { os.Exit(Run(root)) }

// JSON writes v as one indented JSON document, terminal controls escaped
// (see escapeJSON).
func JSON(w io.Writer, v any) error {
	var b bytes.Buffer
	enc := json.NewEncoder(&b)
	enc.SetIndent("", "  ")
	if err := enc.Encode(v); err != nil {
		return err
	}
	_, err := w.Write(escapeJSON(b.Bytes()))
	return err
}

// Table writes rows under a header, aligned.
func Table(w io.Writer, header []string, rows [][]string) error {
	tw := tabwriter.NewWriter(w, 2, 4, 2, ' ', 0)
	fmt.Fprintln(tw, strings.Join(header, "\t"))
	for _, r := range rows {
		clean := make([]string, len(r))
		for i, c := range r {
			clean[i] = oneLine(c)
		}
		fmt.Fprintln(tw, strings.Join(clean, "\t"))
	}
	return tw.Flush()
}

// oneLine keeps a table cell on one line, reasonably short and
// Printable: every table, whole or streamed, writes its cells through it.
func oneLine(s string) string {
	s = Printable(strings.Join(strings.Fields(s), " "))
	if r := []rune(s); len(r) > 60 {
		return string(r[:57]) + "..."
	}
	return s
}

// Bind makes every flag of cmd (and its parents' persistent flags) readable
// through v, overridable by MAW_<FLAG> environment variables (dashes and dots
// become underscores) and by the config file.
func Bind(v *viper.Viper, cmd *cobra.Command) {
	v.SetEnvPrefix("MAW")
	v.SetEnvKeyReplacer(strings.NewReplacer("-", "_", ".", "_"))
	v.AutomaticEnv()
	bind := func(f *pflag.Flag) { _ = v.BindPFlag(f.Name, f) }
	cmd.Flags().VisitAll(bind)
	cmd.InheritedFlags().VisitAll(bind)
}

// ExactArgs is cobra.ExactArgs with a message that says what to do.
func ExactArgs(n int) cobra.PositionalArgs {
	return func(cmd *cobra.Command, args []string) error {
		if len(args) != n {
			return fmt.Errorf("%s takes %d argument(s), got %d; see `%s --help`", cmd.CommandPath(), n, len(args), cmd.CommandPath())
		}
		return nil
	}
}

// NoArgs refuses stray arguments with a helpful message.
func NoArgs(cmd *cobra.Command, args []string) error {
	if len(args) > 0 {
		return fmt.Errorf("%s takes no arguments, got %q; see `%s --help`", cmd.CommandPath(), args, cmd.CommandPath())
	}
	return nil
}
