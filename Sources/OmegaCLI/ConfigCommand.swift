import ArgumentParser
import Foundation
import OmegaCore
import OmegaModels

/// `omega config show`: the effective configuration and where each value came from.
struct ConfigCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "config",
        abstract: "Show the effective configuration.",
        subcommands: [ConfigShow.self],
        defaultSubcommand: ConfigShow.self
    )
}

struct ConfigShow: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "show",
        abstract: "Print every setting in force and where it came from: a file and line, the environment, a flag, the ledger, or the default.",
        discussion: "Give the flags a run would get (--budget, --model, --backend, --ledger) to see their effect."
    )

    @Option(name: .long, help: ArgumentHelp("Read this configuration file instead of the layered search.", valueName: "FILE"))
    var config: String?
    @Option(name: .long, help: ArgumentHelp("As `omega --ledger`.", valueName: "PATH")) var ledger: String?
    @Option(name: .long, help: ArgumentHelp("As `omega --budget`.", valueName: "TOKENS")) var budget: Int?
    @Option(name: .long, help: ArgumentHelp("As `omega --model`.", valueName: "NAME")) var model: String?
    @Option(name: .long, help: ArgumentHelp("As `omega --backend`.", valueName: "NAME")) var backend: String?
    @Flag(help: "Print JSON.") var json = false

    func run() throws {
        var flags = Session.Flags()
        flags.config = config
        flags.ledger = ledger
        flags.budget = budget
        flags.model = model
        flags.backend = backend
        var entries: [Session.Setting] = []
        let files: [URL]
        let notes: [String]
        do {
            // What a run would resolve, from the same code: the session.
            let session = try Session(flags: flags)
            // Fail as a run would on a setting that does not make sense.
            _ = try session.interpreterOptions()
            // The backend as a run would make it (a replay needs its file from the command line).
            let configuredBackend = try session.configuration.string("backend")
            if (backend ?? configuredBackend) != "replay" { _ = try session.makeBackend() }
            // Showing must not create a ledger that is not there.
            try session.openLedger(create: false)
            try session.ledger?.close()
            files = session.configuration.files
            notes = session.notes + session.warnings
            entries = session.settings
        } catch let e as CLIError {
            throw e
        } catch let e as ConfigError {
            throw e
        } catch {
            // A configuration that does not make sense stops a run with status
            // 2 (a usage error); showing it does the same.
            throw SetupError(error)
        }
        entries.sort { $0.key < $1.key }
        if json {
            let object: [String: Any] = [
                "files": files.map(\.path),
                "settings": entries.map { ["key": $0.key, "value": $0.value, "source": $0.source] },
                "notes": notes,
            ]
            if let data = try? JSONSerialization.data(withJSONObject: object, options: [.prettyPrinted, .sortedKeys]) {
                print(String(decoding: data, as: UTF8.self))
            }
            return
        }
        print("Configuration files (each over the ones before):")
        if files.isEmpty { print("  none (searched: \(Configuration.searchPath().map(\.path).joined(separator: ", ")))") }
        for f in files { print("  \(f.path)") }
        print("")
        let keyWidth = min(40, entries.map(\.key.count).max() ?? 0)
        let valueWidth = min(36, entries.map(\.value.count).max() ?? 0)
        for e in entries {
            let k = e.key.count > keyWidth ? e.key : e.key.padding(toLength: keyWidth, withPad: " ", startingAt: 0)
            let v = e.value.count > valueWidth ? e.value : e.value.padding(toLength: valueWidth, withPad: " ", startingAt: 0)
            print("\(k)  \(v)  \(e.source)")
        }
        for n in notes { print("note: \(n)") }
    }
}
