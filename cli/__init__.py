"""The interactive shell: prompt, lexer, completer, key bindings, toolbar and rich rendering."""
