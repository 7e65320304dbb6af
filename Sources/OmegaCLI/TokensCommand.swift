import ArgumentParser
import Foundation
import OmegaCore
import OmegaModels

/// `omega tokens status|budget|reset|report`: usage and budgets from the ledger.
struct TokensCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "tokens",
        abstract: "Show token usage and manage budgets, from the ledger.",
        subcommands: [TokensStatus.self, TokensBudget.self, TokensMode.self, TokensReset.self, TokensReport.self],
        defaultSubcommand: TokensStatus.self
    )
}

/// The options every `omega tokens` subcommand takes, and what they open.
struct LedgerOptions: ParsableArguments {
    @Option(name: .long, help: ArgumentHelp("Read this configuration file instead of .omega/config.toml.", valueName: "FILE"))
    var config: String?

    @Option(name: .long, help: ArgumentHelp("The ledger database (also $OMEGA_LEDGER).", valueName: "PATH"))
    var ledger: String?

    /// The configuration's budget policy (with the ledger's command-line
    /// limits over it), its prices, and the ledger.
    func open() throws -> (policy: BudgetPolicy, prices: PriceTable, ledger: any LedgerReporting) {
        var flags = Session.Flags()
        flags.config = config
        flags.ledger = ledger
        let session = try Session(flags: flags)
        guard session.ledgerPath != "none" else { throw CLIError("there is no ledger to read (--ledger none)") }
        guard let opened = try session.openLedger() else { throw CLIError("there is no ledger to read") }
        guard let store = opened as? any LedgerReporting else { throw CLIError("the ledger \(opened.path) keeps no reports") }
        for w in session.warnings { printError("omega: \(w)") }
        return (session.policy, session.models.prices, store)
    }
}

struct TokensStatus: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "status",
        abstract: "The dashboard: budgets against their limits, the total and each agent since the last reset, today's use by model."
    )

    @OptionGroup var options: LedgerOptions

    @Flag(help: "Colour the bars even when standard output is not a terminal.")
    var colour = false

    @Flag(help: "Print JSON.") var json = false

    func run() throws {
        let (policy, _, store) = try options.open()
        do {
            let dashboard = try Dashboard.make(ledger: store, policy: policy)
            print(json ? dashboard.renderJSON() : dashboard.render(colour: colour || terminalHasColour()), terminator: "")
        } catch {
            throw CLIError("\(error)")
        }
    }
}

struct TokensBudget: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "budget",
        abstract: "Set a budget that every later run obeys (kept in the ledger); with no arguments, list them.",
        discussion: """
            omega tokens budget sprint 300000          the workflow sprint: 300,000 tokens
            omega tokens budget --agent reviewer 50k   an agent
            omega tokens budget --model gpt-4o 1m      a model
            omega tokens budget --shared team-research 2m   a shared budget (with-shared-budget, any agent)
            omega tokens budget --daily 1000000        the calendar day (also --weekly, --monthly)
            omega tokens budget --daily --unit usd 5   five dollars a day
            omega tokens budget --total 5m             everything since the last reset (seed 002's total_budget)
            omega tokens budget --model gpt-4o --daily 100k   a model's (agent's, workflow's) budget per day
            omega tokens budget sprint none            remove it (the configuration's limit applies again)
            """
    )

    @Argument(help: ArgumentHelp("The workflow (or agent, model, shared budget with --agent, --model, --shared), then the amount; 'none' removes.", valueName: "NAME N"))
    var words: [String] = []

    @Flag(help: "The total since the last reset (no NAME).") var total = false
    @Flag(help: "NAME is an agent.") var agent = false
    @Flag(help: "NAME is a model.") var model = false
    @Flag(help: "NAME is a shared budget (charged by calls inside (with-shared-budget NAME …), whatever their agent).") var shared = false
    @Flag(help: "The budget of each calendar day (with a NAME: that name's, per day).") var daily = false
    @Flag(help: "The budget of each ISO week (with a NAME: that name's, per week).") var weekly = false
    @Flag(help: "The budget of each month (with a NAME: that name's, per month).") var monthly = false

    @Option(help: ArgumentHelp("tokens (default), input-tokens, output-tokens, usd or calls.", valueName: "UNIT"))
    var unit = "tokens"

    @OptionGroup var options: LedgerOptions

    /// The window flag given, if any.
    var window: BudgetScope.Kind? { daily ? .day : weekly ? .week : monthly ? .month : nil }

    /// Whether the words name a workflow, agent or model (not a bare window or the total).
    var named: Bool { agent || model || shared || (!total && words.count == 2) }

    func validate() throws {
        if [agent, model, shared, total].filter({ $0 }).count > 1 { throw ValidationError("choose one of --agent, --model, --shared, --total") }
        if [daily, weekly, monthly].filter({ $0 }).count > 1 { throw ValidationError("choose one of --daily, --weekly, --monthly") }
        if total && window != nil { throw ValidationError("the total has no window: give --total or a window, not both") }
        guard let u = BudgetUnit.named(unit), u != .seconds else {
            throw ValidationError("unknown unit '\(unit)' (tokens, input-tokens, output-tokens, usd, calls)")
        }
        let bare = total || (window != nil && !agent && !model && !shared && words.count <= 1)
        if !words.isEmpty && words.count != (bare ? 1 : 2) {
            throw ValidationError(bare ? "give the amount only: omega tokens budget --\(total ? "total" : window?.adjective ?? "daily") N"
                                       : "give a name and an amount: omega tokens budget NAME N")
        }
    }

    func run() throws {
        let (_, _, store) = try options.open()
        if words.isEmpty {
            let overrides = try store.budgetOverrides()
            if overrides.isEmpty { print("no budgets set from the command line (the configuration's apply; omega config show lists them)") }
            for o in overrides {
                let target = TokensActions.BudgetTarget(kind: o.kind, name: o.name, window: o.window, unit: o.unit)
                let amount = o.unit == .tokens ? Dashboard.grouped(o.amount) + " tokens" : o.unit.format(o.amount)
                print("\(target.label): \(amount)  (set \(ISO8601DateFormatter().string(from: o.setAt)))")
            }
            return
        }
        let nameKind: BudgetScope.Kind = agent ? .agent : model ? .model : shared ? .shared : .workflow
        let kind: BudgetScope.Kind = total ? .total : named ? nameKind : (window ?? .workflow)
        let name = kind.isNamed ? words[0] : ""
        let unitValue = BudgetUnit.named(unit) ?? .tokens
        let amountText = words.last ?? ""
        let amount: Int64? = ["none", "off", "remove"].contains(amountText.lowercased()) ? nil
            : try TokensActions.amount(amountText, unit: unitValue)
        do {
            let target = TokensActions.BudgetTarget(kind: kind, name: name, window: kind.isNamed ? window : nil, unit: unitValue)
            print(try TokensActions.setBudget(target, amount: amount == 0 ? nil : amount, ledger: store))
        } catch let e as CLIError { throw e } catch { throw CLIError("\(error)") }
    }
}

struct TokensMode: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "mode",
        abstract: "Show or set the mode every later run uses (kept in the ledger).",
        discussion: Session.modes.map { "\($0.name): \($0.does)" }.joined(separator: "\n")
    )

    @Argument(help: ArgumentHelp("economy, emergency or standard; none shows the mode.", valueName: "MODE"))
    var mode: String?

    @OptionGroup var options: LedgerOptions

    func run() throws {
        let (_, _, store) = try options.open()
        do {
            guard let mode else {
                let current = try store.setting("mode") ?? "standard"
                let does = Session.modes.first { $0.name == current }?.does ?? ""
                print("mode: \(current) — \(does)")
                return
            }
            print(try TokensActions.setMode(mode, interp: nil, ledger: store))
        } catch let e as CLIError { throw e } catch { throw CLIError("\(error)") }
    }
}

struct TokensReset: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "reset",
        abstract: "Start budget counts again (the calls stay in the ledger).",
        discussion: """
            omega tokens reset                        every count: the total, every model's, agent's and workflow's, this day, week and month
            omega tokens reset total                  the total and every name's count since its last reset (seed 002's reset)
            omega tokens reset day                    today's count, for everyone (also week, month)
            omega tokens reset --agent code-reviewer  that agent's counts (with total, day, week or month: only that one)
            Asks for confirmation on a terminal; elsewhere needs --yes.
            """
    )

    @Argument(help: ArgumentHelp("total, day, week, month or all (the default).", valueName: "WHAT"))
    var what: String?

    @Option(help: ArgumentHelp("The same as WHAT.", valueName: "WHAT"))
    var scope: String?

    @Option(help: ArgumentHelp("Only this agent's counts.", valueName: "NAME")) var agent: String?
    @Option(help: ArgumentHelp("Only this workflow's counts.", valueName: "NAME")) var workflow: String?
    @Option(help: ArgumentHelp("Only this model's counts.", valueName: "NAME")) var model: String?
    @Option(help: ArgumentHelp("Only this shared budget's counts.", valueName: "NAME")) var shared: String?

    @Flag(name: [.short, .long], help: "Do not ask for confirmation.")
    var yes = false

    @OptionGroup var options: LedgerOptions

    func validate() throws {
        if what != nil && scope != nil { throw ValidationError("give WHAT or --scope, not both") }
        if [agent, workflow, model, shared].compactMap({ $0 }).count > 1 { throw ValidationError("choose one of --agent, --workflow, --model, --shared") }
    }

    func run() throws {
        let (policy, _, store) = try options.open()
        let kind: BudgetScope.Kind? = agent != nil ? .agent : workflow != nil ? .workflow : model != nil ? .model
            : shared != nil ? .shared : nil
        let name = agent ?? workflow ?? model ?? shared
        let chosen = what ?? scope ?? "all"
        do {
            let counters = try TokensActions.countersToReset(chosen, kind: kind, name: name, policy: policy, ledger: store)
            let summary = TokensActions.summary(chosen, kind: kind, name: name)
            if !yes {
                guard isatty(0) != 0 else {
                    throw CLIError("resetting \(summary) needs confirmation: run it on a terminal, or pass --yes")
                }
                FileHandle.standardOutput.write(Data("Start \(summary) again? [y/N] ".utf8))
                let answer = readLine()?.trimmingCharacters(in: .whitespaces).lowercased() ?? ""
                guard answer == "y" || answer == "yes" else {
                    print("nothing reset")
                    return
                }
            }
            print(TokensActions.describe(try store.resetWindows(counters)))
        } catch let e as CLIError { throw e } catch { throw CLIError("\(error)") }
    }
}

struct TokensReport: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "report",
        abstract: "Usage, cost, remaining budget, alerts, trend, forecast and recommendations for a period."
    )

    @Flag(help: "Today (the default).") var daily = false
    @Flag(help: "This ISO week.") var weekly = false
    @Flag(help: "This month.") var monthly = false

    @Option(help: ArgumentHelp("Group by model (default), agent, workflow or operation.", valueName: "WHAT"))
    var by = "model"

    @Flag(help: "Print JSON.") var json = false
    @Flag(help: "Print CSV.") var csv = false
    @Flag(help: "Count the offline simulator's calls (dry runs) in the rows, totals and advice.") var simulated = false

    @OptionGroup var options: LedgerOptions

    func validate() throws {
        if [daily, weekly, monthly].filter({ $0 }).count > 1 { throw ValidationError("choose one of --daily, --weekly, --monthly") }
        if json && csv { throw ValidationError("choose one of --json, --csv") }
        if UsageReport.Dimension(rawValue: by) == nil {
            throw ValidationError("--by: expected model, agent, workflow or operation, got '\(by)'")
        }
    }

    func run() throws {
        let (policy, prices, store) = try options.open()
        let period: UsageReport.Period = weekly ? .weekly : monthly ? .monthly : .daily
        do {
            let report = try UsageReport.make(ledger: store, policy: policy, prices: prices, period: period,
                                              by: UsageReport.Dimension(rawValue: by) ?? .model, includeSimulated: simulated)
            print(json ? report.renderJSON() : csv ? report.renderCSV() : report.renderText(), terminator: "")
        } catch {
            throw CLIError("\(error)")
        }
    }
}

/// True when standard output is a terminal that shows colour.
func terminalHasColour() -> Bool {
    let env = ProcessInfo.processInfo.environment
    return isatty(1) != 0 && env["NO_COLOR"] == nil && env["TERM"] != "dumb"
}
