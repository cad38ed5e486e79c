package main

import (
	"fmt"
	"os"
	"strconv"

	"github.com/spf13/cobra"

	"github.com/mobileatwork/mobileatwork/internal/cli"
	"github.com/mobileatwork/mobileatwork/server/adminapi"
)

func scriptCmds() []*cobra.Command {
	c := &cobra.Command{Use: "script", Short: "The script repository: add, show, set, delete (list with `scripts`)"}
	add := &cobra.Command{
		Use:   "add --name NAME --file PATH [--description D] [--input LABEL:NAME[=DEFAULT]]...",
		Short: "Store a script, signed and encrypted at rest; prints its id last",
		Long: `add stores a shell script (text, at most 1 MB) under a unique name. It is signed
with the tenant signing certificate and encrypted with a fresh AES-256 key
in the file store (DATA/files/, by SHA-256). Inputs are declared in order; scripts receive them as
positional arguments and as MAW_INPUT_<NAME> variables. Defaults may hold
{$variables}. A script runs on devices through a script configuration.`,
		Args: cli.NoArgs,
		RunE: withAdmin(func(c adminapi.Conn, cmd *cobra.Command, _ []string) error {
			body, err := readScript(v.GetString("file"))
			if err != nil {
				return err
			}
			sc, err := adminapi.Call(cmd.Context(), c, adminapi.AddScript, adminapi.ScriptAddRequest{
				Name: v.GetString("name"), Description: v.GetString("description"), Body: body, Inputs: v.GetStringSlice("input"),
			})
			if err != nil {
				return err
			}
			fmt.Fprintf(cmd.ErrOrStderr(), "script %q stored (%d bytes, sha256 %s)\n", sc.Name, sc.Size, sc.SHA256)
			fmt.Fprintln(cmd.OutOrStdout(), sc.ID)
			return nil
		}),
	}
	f := add.Flags()
	f.String("name", "", "unique script name")
	f.String("file", "", "path of the script")
	f.String("description", "", "what it does")
	f.StringArray("input", nil, "declare an input LABEL:NAME[=DEFAULT] (repeatable, in order)")

	set := &cobra.Command{
		Use:   "set REF [--file PATH] [--name N] [--description D] [--input LABEL:NAME[=DEFAULT]]...",
		Short: "Edit a script; --file stores a new version that its configurations deliver",
		Long: `set edits the script REF (id or name). --file stores a new version: every
configuration that uses the script gets a new version too, so devices run the
new body at their next check-in (a run-once configuration runs once more), and
results record the SHA-256 of the body that ran. --input replaces the declared
inputs (all of them, in order); it is refused while a configuration overrides
an input the new list drops.`,
		Args: cli.ExactArgs(1),
		RunE: withAdmin(func(c adminapi.Conn, cmd *cobra.Command, args []string) error {
			fl := cmd.Flags()
			req := adminapi.ScriptSetRequest{Ref: args[0], Name: optString(fl, "name"), Description: optString(fl, "description")}
			if fl.Changed("file") {
				body, err := readScript(v.GetString("file"))
				if err != nil {
					return err
				}
				req.Body = &body
			}
			if fl.Changed("input") {
				in := v.GetStringSlice("input")
				req.Inputs = &in
			}
			sc, err := adminapi.Call(cmd.Context(), c, adminapi.SetScript, req)
			if err != nil {
				return err
			}
			fmt.Fprintf(cmd.ErrOrStderr(), "script %q is at version %d (sha256 %s)\n", sc.Name, sc.Version, sc.SHA256)
			return nil
		}),
	}
	sf := set.Flags()
	sf.String("name", "", "new name")
	sf.String("file", "", "new body")
	sf.String("description", "", "new description")
	sf.StringArray("input", nil, "replace the inputs: LABEL:NAME[=DEFAULT] (repeatable, in order)")

	show := &cobra.Command{
		Use:   "show REF",
		Short: "A script: version, digest, inputs and the configurations that use it",
		Args:  cli.ExactArgs(1),
		RunE: withAdmin(func(c adminapi.Conn, cmd *cobra.Command, args []string) error {
			sc, err := adminapi.Call(cmd.Context(), c, adminapi.ShowScript, adminapi.RefRequest{Ref: args[0]})
			if err != nil {
				return err
			}
			if v.GetBool("json") {
				return cli.JSON(cmd.OutOrStdout(), sc)
			}
			w := cmd.OutOrStdout()
			field(w, "id", sc.ID)
			field(w, "name", sc.Name)
			if sc.Description != "" {
				field(w, "description", sc.Description)
			}
			field(w, "version", strconv.Itoa(sc.Version))
			field(w, "sha256", sc.SHA256)
			field(w, "size", fmt.Sprintf("%d bytes", sc.Size))
			field(w, "updated", stampAt(sc.UpdatedAt))
			for i, in := range sc.Inputs {
				field(w, fmt.Sprintf("input %d", i+1), fmt.Sprintf("%s (%s) default %q", in.Name, in.Label, in.Default))
			}
			if len(sc.UsedBy) == 0 {
				field(w, "used by", "no configuration")
			}
			for _, c := range sc.UsedBy {
				field(w, "used by", fmt.Sprintf("%s (%s, version %d)", c.Name, c.ID, c.Version))
			}
			return nil
		}),
	}
	show.Flags().Bool("json", false, "print JSON")

	del := &cobra.Command{
		Use:   "delete REF",
		Short: "Delete a script; refused while a configuration uses it",
		Args:  cli.ExactArgs(1),
		RunE: withAdmin(func(c adminapi.Conn, cmd *cobra.Command, args []string) error {
			sc, err := adminapi.Call(cmd.Context(), c, adminapi.DeleteScript, adminapi.RefRequest{Ref: args[0]})
			if err != nil {
				return err
			}
			fmt.Fprintf(cmd.ErrOrStderr(), "script %q deleted\n", sc.Name)
			return nil
		}),
	}
	c.AddCommand(add, set, show, del)

	list := &cobra.Command{
		Use:   "scripts",
		Short: "List the script repository",
		Args:  cli.NoArgs,
		RunE: withAdmin(func(c adminapi.Conn, cmd *cobra.Command, _ []string) error {
			all, err := adminapi.All(cmd.Context(), c, adminapi.ListScripts, adminapi.ListRequest{})
			if err != nil {
				return err
			}
			if v.GetBool("json") {
				return cli.JSON(cmd.OutOrStdout(), all)
			}
			rows := [][]string{}
			for _, sc := range all {
				rows = append(rows, []string{sc.ID, sc.Name, strconv.Itoa(sc.Version), strconv.FormatInt(sc.Size, 10), sc.SHA256[:12], sc.Description})
			}
			return cli.Table(cmd.OutOrStdout(), []string{"ID", "NAME", "VERSION", "BYTES", "SHA256", "DESCRIPTION"}, rows)
		}),
	}
	list.Flags().Bool("json", false, "print JSON")
	return []*cobra.Command{c, list}
}

func readScript(path string) ([]byte, error) {
	if path == "" {
		return nil, fmt.Errorf("--file is required: the path of the script")
	}
	body, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("read script: %w", err)
	}
	return body, nil
}
