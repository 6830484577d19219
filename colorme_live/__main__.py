from colorme_live.cli import entry

entry()
