"""The ``pocketvox`` command: a click group whose sub-commands live in their own modules.

Errors a user can cause (:class:`pocketvox.errors.PocketvoxError`) are printed as one line and
exit with status 2; ``--debug`` shows the traceback instead.
"""

from __future__ import annotations

import importlib
import sys

import click

# (command name, module, attribute): modules are imported only when their command runs, so
# `pocketvox --help` and profiling stay fast and never import torch.
COMMANDS = [
    ("interactions", "pocketvox.cli.interactions", "interactions"),
    ("channels", "pocketvox.cli.grid", "channels"),
    ("voxelize", "pocketvox.cli.grid", "voxelize"),
    ("dataset", "pocketvox.cli.dataset", "dataset"),
    ("train", "pocketvox.cli.train", "train"),
    ("evaluate", "pocketvox.cli.evaluate", "evaluate"),
    ("predict", "pocketvox.cli.predict", "predict"),
    ("screen", "pocketvox.cli.screen", "screen"),
    ("segment", "pocketvox.cli.domains", "segment"),
    ("infer", "pocketvox.cli.domains", "infer"),
    ("explain", "pocketvox.cli.explain", "explain"),
    ("export", "pocketvox.cli.export", "export"),
]


class LazyGroup(click.Group):
    def list_commands(self, ctx):
        out = []
        for name, mod, _ in COMMANDS:
            if importlib.util.find_spec(mod) is not None:
                out.append(name)
        return out

    def get_command(self, ctx, name):
        for cname, mod, attr in COMMANDS:
            if cname == name:
                try:
                    return getattr(importlib.import_module(mod), attr)
                except ModuleNotFoundError as e:
                    if e.name == mod:
                        return None
                    raise
        return None


@click.group(cls=LazyGroup, context_settings={"help_option_names": ["-h", "--help"]})
@click.option("--debug", is_flag=True, help="Show full tracebacks on errors.")
@click.version_option(package_name="pocketvox")
@click.pass_context
def cli(ctx, debug):
    """pocketvox: interaction profiling, voxel grids and 3D-CNN interaction hotspots."""
    ctx.ensure_object(dict)
    ctx.obj["debug"] = debug


def main(argv=None):
    """Entry point: run the click group, turning user errors into one line."""
    from pocketvox.errors import PocketvoxError

    debug = "--debug" in (argv if argv is not None else sys.argv[1:])
    try:
        cli.main(args=argv, standalone_mode=False)
    except click.exceptions.Abort:
        click.echo("Aborted.", err=True)
        sys.exit(130)
    except click.ClickException as e:
        e.show()
        sys.exit(e.exit_code)
    except click.exceptions.Exit as e:
        sys.exit(e.exit_code)
    except PocketvoxError as e:
        if debug:
            raise
        click.echo(f"pocketvox: error: {e}", err=True)
        sys.exit(2)
    except KeyboardInterrupt:
        sys.exit(130)
    except Exception as e:  # noqa: BLE001 - last resort: one line unless --debug
        if debug:
            raise
        click.echo(f"pocketvox: internal error: {type(e).__name__}: {e} (rerun with --debug)", err=True)
        sys.exit(1)


if __name__ == "__main__":
    main()
