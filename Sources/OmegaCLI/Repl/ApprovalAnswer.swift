import Foundation
import OmegaCore
import OmegaModels

/// The REPL's approval question when a budget refuses a call: `y` lets this
/// call through, `n` (or nothing) declines, `+AMOUNT` (or a bare amount)
/// raises the refused scope's limit by AMOUNT in the refused unit.
enum ApprovalAnswer {
    static func parse(_ text: String, unit: BudgetUnit) -> Result<BudgetApproval, ApprovalProblem> {
        let t = text.trimmingCharacters(in: .whitespaces).lowercased()
        switch t {
        case "", "n", "no": return .success(.decline)
        case "y", "yes", "once": return .success(.once)
        default: break
        }
        let amountText = t.hasPrefix("+") ? String(t.dropFirst()) : t
        guard let n = try? TokensActions.amount(amountText, unit: unit), n > 0 else {
            return .failure(ApprovalProblem(text: "answer y, n, or +AMOUNT (a positive number of \(unit.shortName)); got '\(text)'"))
        }
        return .success(.extend(n))
    }

    /// What to offer: the shortfall of the refused call, rounded up to a
    /// round number, at least a tenth of the limit.
    static func suggestedExtension(_ r: BudgetExceeded) -> Int64 {
        let shortfall = max(1, r.used.adding(saturating: r.reserved).adding(saturating: r.requested) - r.limit)
        let wanted = max(shortfall, r.limit / 10)
        var step: Int64 = 1
        while step <= wanted / 10, step < Int64.max / 10 { step *= 10 }
        let rounded = wanted.adding(saturating: step - 1) / step
        return rounded.multipliedReportingOverflow(by: step).overflow ? wanted : rounded * step
    }

    /// An internal amount as a person types it back.
    static func format(_ n: Int64, _ unit: BudgetUnit) -> String {
        switch unit {
        case .usd: return Money(picodollars: n).description.replacingOccurrences(of: "$", with: "")
        case .seconds: return (Double(n) / 1000).formatted(.number.grouping(.never))
        default: return "\(n)"
        }
    }
}

struct ApprovalProblem: Error, CustomStringConvertible {
    var text: String
    var description: String { text }
}
