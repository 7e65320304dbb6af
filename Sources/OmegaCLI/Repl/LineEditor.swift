import CLineEditor
import COmegaShims
import Foundation

/// Reads lines for the REPL: libedit on a terminal (editing, history, Ctrl-R,
/// completion), plain `readLine` otherwise.
final class LineEditor {
    enum Input: Equatable {
        case line(String)
        case endOfInput
        case interrupted
    }

    private let editor: OpaquePointer?
    /// Candidates for the word before the cursor: (text before the cursor, word).
    var completer: ((String, String) -> [String])?

    /// True when lines come from libedit (a terminal).
    var isInteractive: Bool { editor != nil }

    init() {
        editor = isatty(0) != 0 ? omega_editor_open("omega") : nil
        guard let editor else { return }
        let context = Unmanaged.passUnretained(self).toOpaque()
        omega_editor_set_completer(editor, { context, line, word in
            guard let context, let line, let word else { return nil }
            let me = Unmanaged<LineEditor>.fromOpaque(context).takeUnretainedValue()
            let found = me.completer?(String(cString: line), String(cString: word)) ?? []
            return found.isEmpty ? nil : strdup(found.joined(separator: "\n"))
        }, context)
    }

    deinit { if let editor { omega_editor_close(editor) } }

    /// Reads one line (without its newline).
    func read(prompt: String) -> Input {
        guard let editor else {
            omega_stdout_write_flush(prompt)
            guard let line = readLine(strippingNewline: true) else { return .endOfInput }
            return .line(line)
        }
        var status: Int32 = 0
        guard let raw = omega_editor_read(editor, prompt, &status) else {
            return status == Int32(OMEGA_READ_INTERRUPTED) ? .interrupted : .endOfInput
        }
        defer { free(raw) }
        return .line(String(cString: raw))
    }

    /// Ends a read in progress as `.interrupted` (any thread).
    func interrupt() { if let editor { omega_editor_interrupt(editor) } }

    /// Forgets an interrupt that arrived while nothing was being read.
    func clearInterrupt() { if let editor { omega_editor_clear_interrupt(editor) } }

    func addHistory(_ entry: String) { if let editor { omega_editor_history_add(editor, entry) } }

    /// Loads the history file; a missing file is an empty history.
    func loadHistory(from path: String) {
        if let editor, FileManager.default.fileExists(atPath: path) { _ = omega_editor_history_load(editor, path) }
    }

    /// Writes the history file (creating its directory); false when it cannot.
    @discardableResult
    func saveHistory(to path: String) -> Bool {
        guard let editor else { return true }
        let dir = (path as NSString).deletingLastPathComponent
        if !dir.isEmpty { try? FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: true) }
        return omega_editor_history_save(editor, path) == 0
    }
}
