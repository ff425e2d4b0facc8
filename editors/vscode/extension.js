// The client: starts `kql lsp` (the binary from the `kql.path` setting) for .kql files and,
// unless `kql.yaml` is off, YAML files (the server answers only for rules with a `query:`).
'use strict';
const vscode = require('vscode');
const { LanguageClient } = require('vscode-languageclient/node');

let client;

function activate(context) {
  const config = vscode.workspace.getConfiguration('kql');
  const command = config.get('path') || 'kql';
  const documentSelector = [{ scheme: 'file', language: 'kql' }];
  if (config.get('yaml', true)) {
    documentSelector.push({ scheme: 'file', language: 'yaml' });
  }
  client = new LanguageClient(
    'kql',
    'KQL',
    { command, args: ['lsp'] },
    {
      documentSelector,
      // kql.toml and stored-function files change what every document sees
      synchronize: { fileEvents: vscode.workspace.createFileSystemWatcher('**/{kql.toml,*.kql,*.csl}') },
    }
  );
  context.subscriptions.push(client);
  return client.start();
}

function deactivate() {
  return client ? client.stop() : undefined;
}

module.exports = { activate, deactivate };
