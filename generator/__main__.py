from generator.console import entry

entry()
