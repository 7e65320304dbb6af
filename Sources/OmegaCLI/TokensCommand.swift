import ArgumentParser
import Foundation
import Omega

/// `omega tokens status`: the usage dashboard from the ledger.
struct TokensCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "tokens",
        abstract: "Show token usage from the ledger.",
        subcommands: [TokensStatus.self],
        defaultSubcommand: TokensStatus.self
    )
}

struct TokensStatus: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "status",
        abstract: "The dashboard: today's use against the daily budget, the current workflow, usage by model."
    )

    @Option(name: .long, help: ArgumentHelp("Read this configuration file instead of .omega/config.toml.", valueName: "FILE"))
    var config: String?

    @Option(name: .long, help: ArgumentHelp("The ledger database (also $OMEGA_LEDGER).", valueName: "PATH"))
    var ledger: String?

    @Flag(help: "Colour the bars even when standard output is not a terminal.")
    var colour = false

    func run() throws {
        let env = ProcessInfo.processInfo.environment
        let configuration: Configuration
        let policy: BudgetPolicy
        do {
            configuration = try Configuration.load(path: config)
            policy = try configuration.budgetPolicy()
        } catch {
            throw CLIError("\(error)")
        }
        let configured: String?
        do { configured = try configuration.ledgerPath() } catch { throw CLIError("\(error)") }
        let path = Ledger.path(flag: ledger, configured: configured, environment: env)
        guard path != "none" else { throw CLIError("there is no ledger to read (--ledger none)") }
        do {
            let store = try Ledger(path: path)
            let dashboard = try Dashboard.make(ledger: store, policy: policy)
            let useColour = colour || (isatty(1) != 0 && env["NO_COLOR"] == nil && env["TERM"] != "dumb")
            print(dashboard.render(colour: useColour), terminator: "")
        } catch let e as LedgerError {
            throw CLIError(e.description)
        }
    }
}
