//! `kql lsp` from a real editor's client: Neovim's built-in LSP client, run headless, opens a
//! Sentinel rule YAML, waits for a diagnostic, completes a column after `| where `, hovers a
//! function, renames a `let` and formats the query (applying the edits as the editor does), through the `kql`
//! binary. Neovim comes from Debian's packages (`scripts/test` installs it when missing); on CI
//! (`CI` set) a missing `nvim` fails the test, elsewhere it is skipped with a loud message.

use crate::common;
use std::time::{Duration, Instant};

const RULE: &str = "id: 3f2b7a1e-0000-4000-8000-000000000002\n\
name: Failures by user\n\
severity: Low\n\
query: |\n\
\x20 let limit = 5;\n\
\x20 SigninLogs\n\
\x20 | summarize n=count() by UserPrincipalName\n\
\x20 | where n > limit and UserPrincipalNam != \"\"\n\
queryFrequency: 1h\n";

/// The client script: each step writes `ok STEP ...` or `FAIL STEP ...` to the result file.
const SCRIPT: &str = r#"
local out = io.open(os.getenv('KQL_RESULT'), 'w')
local function log(s) out:write(s .. '\n'); out:flush() end
local function fail(s) log('FAIL ' .. s); out:close(); vim.cmd('cquit 1') end
local ok_run, err = pcall(function()
  vim.cmd('edit ' .. vim.fn.fnameescape(os.getenv('KQL_RULE')))
  local buf = vim.api.nvim_get_current_buf()
  vim.bo[buf].filetype = 'yaml'
  local id = vim.lsp.start_client({
    name = 'kql',
    cmd = { os.getenv('KQL_BIN'), 'lsp' },
    root_dir = os.getenv('KQL_DIR'),
    flags = { debounce_text_changes = 0 },
  })
  if not id then return fail('start: no client') end
  vim.lsp.buf_attach_client(buf, id)
  local client = vim.lsp.get_client_by_id(id)
  local errors = function() return vim.diagnostic.get(buf, { severity = vim.diagnostic.severity.ERROR }) end
  if not vim.wait(20000, function() return #errors() > 0 end, 20) then
    return fail('diagnostic: no error within 20 s')
  end
  local d = errors()[1]
  log(string.format('ok diagnostic %d:%d %s', d.lnum, d.col, (d.message:gsub('\n', ' '))))
  local function at(line, col)
    return { textDocument = vim.lsp.util.make_text_document_params(buf), position = { line = line, character = col } }
  end
  -- completion of a column after `| where ` on a new last line of the query block
  vim.api.nvim_buf_set_lines(buf, 8, 8, false, { '  | where ' })
  local r = client.request_sync('textDocument/completion', at(8, 10), 20000, buf)
  if not r or r.err then return fail('completion: ' .. vim.inspect(r)) end
  local items = r.result.items or r.result
  local labels = {}
  for _, it in ipairs(items) do labels[#labels + 1] = it.label end
  log('ok completion ' .. table.concat(labels, ' ', 1, math.min(#labels, 5)))
  vim.api.nvim_buf_set_lines(buf, 8, 9, false, {})
  -- hover on `count`
  r = client.request_sync('textDocument/hover', at(6, 18), 20000, buf)
  if not r or r.err or not r.result then return fail('hover: ' .. vim.inspect(r)) end
  log('ok hover ' .. (r.result.contents.value:gsub('\n', ' ')))
  -- rename `limit`, applied to the buffer as the editor applies it
  local p = at(4, 6)
  p.newName = 'maxFailures'
  r = client.request_sync('textDocument/rename', p, 20000, buf)
  if not r or r.err or not r.result then return fail('rename: ' .. vim.inspect(r)) end
  vim.lsp.util.apply_workspace_edit(r.result, client.offset_encoding)
  local lines = vim.api.nvim_buf_get_lines(buf, 0, -1, false)
  log('ok rename ' .. lines[5] .. ' / ' .. lines[8])
  -- format the query block (kql fmt's layout), applied as the editor applies it
  r = client.request_sync('textDocument/formatting', {
    textDocument = vim.lsp.util.make_text_document_params(buf),
    options = { tabSize = 2, insertSpaces = true },
  }, 20000, buf)
  if not r or r.err or not r.result then return fail('formatting: ' .. vim.inspect(r)) end
  vim.lsp.util.apply_text_edits(r.result, buf, client.offset_encoding)
  lines = vim.api.nvim_buf_get_lines(buf, 0, -1, false)
  log('ok formatting ' .. lines[7] .. ' / ' .. lines[9])
  client.stop()
  vim.wait(5000, function() return client.is_stopped() end, 20)
end)
if not ok_run then fail('error ' .. tostring(err)) end
out:close()
vim.cmd('qa!')
"#;

/// `nvim` on the PATH, if any.
fn nvim() -> Option<std::path::PathBuf> {
    let path = std::env::var_os("PATH")?;
    std::env::split_paths(&path).map(|d| d.join("nvim")).find(|p| p.is_file())
}

#[test]
fn lsp_from_neovim_headless() {
    let Some(nvim) = nvim() else {
        if std::env::var_os("CI").is_some() {
            panic!("nvim is not installed: the end-to-end test of `kql lsp` needs Neovim (apt-get install neovim)");
        }
        eprintln!("\n!!! SKIPPED lsp_from_neovim_headless: nvim is not on PATH (apt-get install neovim) !!!\n");
        return;
    };
    let dir = common::temp_dir("lsp-neovim");
    let rule = dir.join("rule.yaml");
    std::fs::write(&rule, RULE).unwrap();
    let script = dir.join("client.lua");
    std::fs::write(&script, SCRIPT).unwrap();
    let result = dir.join("result.txt");
    let mut child = std::process::Command::new(&nvim)
        .args(["--headless", "-u", "NONE", "-i", "NONE", "-n", "-c"])
        .arg(format!("luafile {}", script.display()))
        .env("KQL_BIN", common::kql_bin())
        .env("KQL_RULE", &rule)
        .env("KQL_DIR", &dir)
        .env("KQL_RESULT", &result)
        .env("XDG_STATE_HOME", dir.join("state"))
        .env("XDG_CACHE_HOME", dir.join("cache"))
        .env_remove("RUST_BACKTRACE")
        .current_dir(&dir)
        .stdin(std::process::Stdio::null())
        .stdout(std::process::Stdio::null())
        .stderr(std::process::Stdio::null())
        .spawn()
        .expect("nvim starts");
    let start = Instant::now();
    let status = loop {
        if let Some(s) = child.try_wait().unwrap() {
            break s;
        }
        if start.elapsed() > Duration::from_secs(120) {
            let _ = child.kill();
            let _ = child.wait();
            panic!(
                "nvim did not finish within 120 s; so far:\n{}",
                std::fs::read_to_string(&result).unwrap_or_default()
            );
        }
        std::thread::sleep(Duration::from_millis(20));
    };
    let out = std::fs::read_to_string(&result).unwrap_or_default();
    common::report(&format!("lsp: Neovim's client session took {:.1} s", start.elapsed().as_secs_f64()));
    assert!(status.success() && !out.contains("FAIL"), "nvim exited with {status}:\n{out}");
    let line = |step: &str| {
        out.lines()
            .find(|l| l.starts_with(&format!("ok {step} ")))
            .unwrap_or_else(|| panic!("no `{step}` step:\n{out}"))
            .to_string()
    };
    // the misspelt column, at its place in the YAML file (0-based line 7, column 24)
    let d = line("diagnostic");
    assert!(d.starts_with("ok diagnostic 7:24 ") && d.contains("UserPrincipalNam"), "{d}");
    let c = line("completion");
    assert!(c.contains("n") && c.contains("UserPrincipalName"), "{c}");
    let h = line("hover");
    assert!(h.contains("count(): long") && h.contains("aggregation function"), "{h}");
    assert_eq!(
        line("rename"),
        "ok rename   let maxFailures = 5; /   | where n > maxFailures and UserPrincipalNam != \"\""
    );
    // `n=count()` in kql fmt's layout; the rest of the file as it was
    assert_eq!(line("formatting"), "ok formatting   | summarize n = count() by UserPrincipalName / queryFrequency: 1h");
    let _ = std::fs::remove_dir_all(&dir);
}
