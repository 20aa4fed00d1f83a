from panel_tui.cli import program

program()
