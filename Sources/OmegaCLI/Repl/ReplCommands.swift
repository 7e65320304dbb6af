import Foundation
import OmegaCore
import OmegaModels

/// The REPL's `:` commands and tab completion.
extension Repl {
    /// One command: its name, its argument synopsis, what it does.
    struct Command {
        var name: String
        var arguments: String
        var summary: String
    }

    static let commands: [Command] = [
        Command(name: ":help", arguments: "", summary: "this list"),
        Command(name: ":load", arguments: "FILE", summary: "evaluate a Scheme file"),
        Command(name: ":defs", arguments: "", summary: "the names defined in this session"),
        Command(name: ":env", arguments: "[NAME]", summary: "every bound name, or one name's value"),
        Command(name: ":time", arguments: "EXPR", summary: "evaluate EXPR; show time, model calls, tokens and cost"),
        Command(name: ":backend", arguments: "[NAME]", summary: "show or switch the backend (\(BackendSelection.names.joined(separator: ", ")))"),
        Command(name: ":model", arguments: "[NAME]", summary: "show or set the default model"),
        Command(name: ":tokens", arguments: "status", summary: "the usage dashboard"),
        Command(name: ":tokens", arguments: "budget WORKFLOW N", summary: "set a workflow's token budget (kept in the ledger)"),
        Command(name: ":tokens", arguments: "mode economy|standard", summary: "economy: cheaper models, shorter outputs, cache on"),
        Command(name: ":tokens", arguments: "reset [day|week|month|all]", summary: "start a window's budget count again (asks first)"),
        Command(name: ":tokens", arguments: "report [daily|weekly|monthly] [by model|agent|workflow|operation]", summary: "usage, cost, trend, forecast, advice"),
        Command(name: ":quit", arguments: "", summary: "leave (also Ctrl-D)"),
    ]

    static let tokensSubcommands = ["status", "budget", "mode", "reset", "report"]

    /// Runs a `:` command line; returns an exit status to leave the REPL.
    func command(_ line: String) -> Int32? {
        var words = line.split(separator: " ", omittingEmptySubsequences: true).map(String.init)
        let name = words.removeFirst()
        let rest = line.dropFirst(name.count).trimmingCharacters(in: .whitespaces)
        switch name {
        case ":help", ":h", ":?":
            showHelp()
        case ":quit", ":q", ":exit":
            return ExitStatus.success
        case ":load", ":l":
            guard !rest.isEmpty else { print("usage: :load FILE"); return nil }
            let path = (rest as NSString).expandingTildeInPath
            guard let text = try? String(contentsOfFile: path, encoding: .utf8) else {
                print("error: cannot read \(path)")
                return nil
            }
            if let status = evaluate(text, sourceName: path, printValues: false) { return status }
            print("loaded \(path)")
        case ":defs":
            let names = interp.globalNames.filter { !initialNames.contains($0) }
            if names.isEmpty { print("nothing defined yet in this session") }
            for n in names { print("  \(n)\(describe(n).map { "  \($0)" } ?? "")") }
        case ":env":
            showEnvironment(words.first)
        case ":time":
            guard !rest.isEmpty else { print("usage: :time EXPR"); return nil }
            return timed(rest)
        case ":backend":
            switchBackend(words.first)
        case ":model":
            if let m = words.first {
                interp.models.defaultModel = m
                print("default model: \(m)\(interp.models.prices.price(for: m) == nil ? " (no price known: money budgets will refuse it)" : "")")
            } else {
                print("default model: \(interp.models.defaultModel)")
            }
        case ":tokens", ":t":
            tokens(words)
        default:
            print("unknown command \(name) (:help lists them)")
        }
        return nil
    }

    private func showHelp() {
        print("Type Scheme expressions; an unfinished one continues on the next line.")
        // A long synopsis gets its summary on the next line.
        let width = 30
        for c in Repl.commands {
            let head = c.arguments.isEmpty ? c.name : "\(c.name) \(c.arguments)"
            if head.count > width {
                print("  \(head)")
                print("  \(String(repeating: " ", count: width))  \(c.summary)")
            } else {
                print("  \(head.padding(toLength: width, withPad: " ", startingAt: 0))  \(c.summary)")
            }
        }
        print("Keys: Tab completes, Ctrl-R searches the history, Ctrl-C interrupts, Ctrl-D leaves.")
    }

    /// `procedure`, `macro`, or the value in write form, cut to a line.
    private func describe(_ name: String) -> String? {
        guard let v = interp.global(name) else { return nil }
        var text = interp.writeString(v)
        if text.count > 60 { text = String(text.prefix(57)) + "..." }
        return text
    }

    private func showEnvironment(_ name: String?) {
        guard let name else {
            let names = interp.globalNames.filter { !$0.hasPrefix("%") }
            print("\(names.count) bound names (:env NAME shows one; names starting with % are internal):")
            printColumns(names)
            return
        }
        if let d = describe(name) {
            print("\(name) = \(d)\(initialNames.contains(name) ? "" : "  (defined in this session)")")
        } else {
            let near = interp.globalNames.filter { $0.hasPrefix(String(name.prefix(3))) && !$0.hasPrefix("%") }.prefix(8)
            print("\(name) is not bound\(near.isEmpty ? "" : "; similar: \(near.joined(separator: " "))")")
        }
    }

    func printColumns(_ items: [String]) {
        let width = (items.map(\.count).max() ?? 0) + 2
        let columns = max(1, 96 / max(width, 1))
        var line = ""
        for (i, item) in items.enumerated() {
            line += item.padding(toLength: width, withPad: " ", startingAt: 0)
            if (i + 1) % columns == 0 { print("  " + line); line = "" }
        }
        if !line.isEmpty { print("  " + line) }
    }

    private func timed(_ source: String) -> Int32? {
        let before = interp.meter.runTotals
        let start = DispatchTime.now().uptimeNanoseconds
        let status = evaluate(source)
        let ms = Double(DispatchTime.now().uptimeNanoseconds - start) / 1e6
        let after = interp.meter.runTotals
        var parts = [ms < 1000 ? String(format: "%.2f ms", ms) : String(format: "%.3f s", ms / 1000)]
        let calls = after.calls - before.calls
        if calls > 0 {
            parts.append("\(calls) model call\(calls == 1 ? "" : "s")")
            parts.append("\(Dashboard.grouped(after.tokens - before.tokens)) tokens (\(after.inputTokens - before.inputTokens) in, \(after.outputTokens - before.outputTokens) out)")
            parts.append(Money(picodollars: after.picodollars - before.picodollars).description)
        }
        print("; " + parts.joined(separator: ", "))
        return status
    }

    private func switchBackend(_ name: String?) {
        guard let name else {
            print("backend: \(interp.effects.backend.name)")
            return
        }
        do {
            interp.effects.backend = try BackendSelection(name: name).make(configuration: session.configuration, models: interp.models)
            print("backend: \(interp.effects.backend.name)")
        } catch {
            print("error: \(error)")
        }
    }

    // MARK: Completion

    /// Names for the word before the cursor: commands after a leading `:`,
    /// `:tokens` subcommands, file names after `:load`, bound names otherwise.
    func completions(line: String, word: String) -> [String] {
        let trimmed = line.drop { $0 == " " }
        if trimmed.hasPrefix(":") {
            let parts = trimmed.split(separator: " ", omittingEmptySubsequences: false).map(String.init)
            if parts.count <= 1 {
                return Array(Set(Repl.commands.map(\.name))).filter { $0.hasPrefix(word) }.sorted()
            }
            switch parts[0] {
            case ":tokens" where parts.count == 2, ":t" where parts.count == 2:
                return Repl.tokensSubcommands.filter { $0.hasPrefix(word) }
            case ":backend" where parts.count == 2:
                return BackendSelection.names.filter { $0.hasPrefix(word) }
            case ":load", ":l":
                return fileCompletions(word)
            case ":time", ":env":
                break
            default:
                return []
            }
        }
        guard !word.isEmpty else { return [] }
        return interp.globalNames.filter { $0.hasPrefix(word) && ($0.hasPrefix("%") == word.hasPrefix("%")) }
    }

    private func fileCompletions(_ word: String) -> [String] {
        let expanded = (word as NSString).expandingTildeInPath
        let dir = word.contains("/") ? (expanded as NSString).deletingLastPathComponent : "."
        let prefix = word.contains("/") ? (expanded as NSString).lastPathComponent : word
        let shownDir = word.contains("/") ? String(word[..<(word.lastIndex(of: "/") ?? word.startIndex)]) + "/" : ""
        guard let entries = try? FileManager.default.contentsOfDirectory(atPath: dir.isEmpty ? "/" : dir) else { return [] }
        return entries.filter { $0.hasPrefix(prefix) && !$0.hasPrefix(".") || (prefix.hasPrefix(".") && $0.hasPrefix(prefix)) }
            .sorted()
            .map { entry in
                var isDir: ObjCBool = false
                _ = FileManager.default.fileExists(atPath: (dir as NSString).appendingPathComponent(entry), isDirectory: &isDir)
                return shownDir + entry + (isDir.boolValue ? "/" : "")
            }
    }
}
