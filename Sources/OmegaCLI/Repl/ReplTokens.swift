import Foundation
import OmegaCore
import OmegaModels

/// `:tokens status|budget|mode|reset|report` — the seeds' `/tokens` commands.
extension Repl {
    func tokens(_ words: [String]) {
        let sub = words.first ?? "status"
        let args = Array(words.dropFirst())
        let missing = "no ledger (--ledger none)"
        do {
            switch sub {
            case "status":
                guard let ledger = interp.meter.reportingLedger else {
                    print("\(missing): this session's use is \(Dashboard.grouped(interp.meter.runTotals.tokens)) tokens, \(Money(picodollars: interp.meter.runTotals.picodollars))")
                    return
                }
                print(try Dashboard.make(ledger: ledger, policy: interp.meter.policy).render(colour: terminalHasColour()), terminator: "")
            case "budget":
                guard args.count == 2 else { print("usage: :tokens budget WORKFLOW N   (N: 300000, 300k; 'none' removes)"); return }
                let amount: Int64? = ["none", "off", "remove", "0"].contains(args[1].lowercased()) ? nil
                    : try TokensActions.amount(args[1], unit: .tokens)
                let target = TokensActions.BudgetTarget(kind: .workflow, name: args[0])
                if let ledger = interp.meter.reportingLedger {
                    print(try TokensActions.setBudget(target, amount: amount, ledger: ledger, meter: interp.meter))
                } else {
                    var limits = interp.meter.policy.limits(of: .workflow, args[0])
                    limits[.tokens] = amount
                    interp.meter.setLimits(.workflow, args[0], limits)
                    print("\(target.label): \(amount.map { Dashboard.grouped($0) + " tokens" } ?? "no limit") (this session only: there is no ledger)")
                }
            case "mode":
                if let name = args.first {
                    print(try TokensActions.setMode(name, interp: interp, ledger: interp.meter.reportingLedger))
                } else {
                    print("mode: \(interp.meter.mode)")
                }
            case "reset":
                guard let ledger = interp.meter.reportingLedger else { print("\(missing): nothing to reset"); return }
                var what = "all", kind: BudgetScope.Kind?, name: String?
                var i = 0
                while i < args.count {
                    let a = args[i].hasPrefix("--") ? String(args[i].dropFirst(2)) : args[i]
                    if let k = BudgetScope.Kind(rawValue: a), k.isNamed, i + 1 < args.count { kind = k; name = args[i + 1]; i += 1 }
                    else { what = a }
                    i += 1
                }
                let windows = try TokensActions.countersToReset(what, kind: kind, name: name, policy: interp.meter.policy, ledger: ledger)
                guard case .line(let answer) = editor.read(prompt: "Start \(TokensActions.summary(what, kind: kind, name: name)) again? [y/N] "),
                      ["y", "yes"].contains(answer.trimmingCharacters(in: .whitespaces).lowercased()) else {
                    print("nothing reset")
                    return
                }
                print(TokensActions.describe(try ledger.resetWindows(windows)))
            case "report":
                guard let ledger = interp.meter.reportingLedger else { print("\(missing): no history to report"); return }
                var period = UsageReport.Period.daily
                var dimension = UsageReport.Dimension.model
                var i = 0
                while i < args.count {
                    let a = args[i].hasPrefix("--") ? String(args[i].dropFirst(2)) : args[i]
                    if let p = UsageReport.Period(rawValue: a) { period = p }
                    else if a == "by", i + 1 < args.count, let d = UsageReport.Dimension(rawValue: args[i + 1]) { dimension = d; i += 1 }
                    else { print("usage: :tokens report [daily|weekly|monthly] [by model|agent|workflow|operation]"); return }
                    i += 1
                }
                let report = try UsageReport.make(ledger: ledger, policy: interp.meter.policy, prices: interp.models.prices,
                                                  period: period, by: dimension)
                print(report.renderText(), terminator: "")
            default:
                print("usage: :tokens status | budget WORKFLOW N | mode economy|emergency|standard | reset [total|day|week|month|all] [agent|workflow|model NAME] | report [daily|weekly|monthly] [by …]")
            }
        } catch {
            print("error: \(error)")
        }
    }
}
