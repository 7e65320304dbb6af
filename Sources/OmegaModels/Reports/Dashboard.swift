import Foundation
import OmegaCore

/// The token-usage dashboard of the seeds (`omega tokens status`, the
/// REPL's `:tokens status`): today's spend against the daily budget, the
/// current workflow against its limit, and usage by model as bars.
package struct Dashboard {
    package struct Line: Equatable {
        package var label: String
        package var used: Int64
        /// The limit the bar is measured against (nil: a share of the total).
        package var limit: Int64?
        package var detail: String
    }

    package var title = "TOKEN USAGE DASHBOARD"
    package var day: String
    /// The budget counts, as the meter counts them (within the window, or
    /// since the last reset; simulated calls included).
    package var daily: Line
    package var weekly: Line?
    package var monthly: Line?
    /// Everything since the last reset (seed 002's total).
    package var total: Line
    package var workflow: Line?
    /// Each agent's count since its last reset (seed 002's `agent_totals`).
    package var agents: [Line]
    /// Today's use by model (the simulator's marked `(simulated)`).
    package var models: [Line]
    /// Today's spending (simulated calls left out).
    package var cost: Money
    /// Today's calls answered by the offline simulator: dry runs, not spending.
    package var simulatedCalls: Int64 = 0
    /// Today's calls to models without a price: cost unknown, not zero.
    package var unpricedCalls: Int64 = 0
    package var simulatedTokens: Int64 = 0

    /// Builds the dashboard of the window that holds `now` from the ledger.
    package static func make(ledger: any LedgerReporting, policy: BudgetPolicy, now: Date = Date()) throws -> Dashboard {
        let windows = CalendarWindows(timeZone: policy.timeZone)
        let keys = windows.keys(at: now)
        let day = windows.interval(.day, at: now)
        // Today's spending: after a reset (`omega tokens reset`) only the calls since.
        let reset = try ledger.lastReset(of: "day:\(keys.day)")
        let from = max(day.start, reset.map { $0.time.addingTimeInterval(1e-6) } ?? day.start)
        let byModel = try ledger.usageSums(from: from, to: day.end, by: ["model"], backends: .real)
        let simulated = try ledger.totals(from: from, to: day.end, backends: .simulated)
        let cost = Money(picodollars: byModel.reduce(Int64(0)) { $0.adding(saturating: $1.charged.picodollars) })
        let counters = try ledger.counterKeys()
        func counted(_ key: String) throws -> Int64 { try ledger.windowTotal(key).tokens }
        func window(_ label: String, _ kind: BudgetScope.Kind, _ key: String) throws -> Line? {
            guard let limit = policy.windows[kind]?[.tokens] else { return nil }
            return Line(label: label, used: try counted("\(kind.rawValue):\(key)"), limit: limit, detail: "")
        }
        var workflow: Line?
        if let name = try ledger.latestWorkflow(from: from, to: day.end) {
            // The workflow's own limit: since its reset, else its daily one.
            if let daily = policy.periodic[.day]?[.workflow]?[name]?[.tokens], policy.workflows[name]?[.tokens] == nil {
                workflow = Line(label: "Current Workflow (\(name), today)",
                                used: try counted("day:\(keys.day)/workflow:\(name)"), limit: daily, detail: "")
            } else {
                workflow = Line(label: "Current Workflow (\(name))", used: try counted("workflow:\(name)"),
                                limit: policy.workflows[name]?[.tokens], detail: "")
            }
        }
        var agents: [Line] = []
        let agentNames = Set(counters.filter { $0.hasPrefix("agent:") }.map { String($0.dropFirst(6)) })
            .union(policy.agents.keys)
        for name in agentNames.sorted() {
            agents.append(Line(label: name, used: try counted("agent:\(name)"), limit: policy.agents[name]?[.tokens], detail: ""))
        }
        var models: [Line] = byModel.map { sum in
            let name: String = (sum.keys.first ?? nil) ?? "?"
            return Line(label: name, used: sum.charged.tokens, limit: policy.periodic[.day]?[.model]?[name]?[.tokens], detail: "")
        }
        // Dry runs appear, marked, so a rehearsal shows its shape; they cost nothing.
        for sum in try ledger.usageSums(from: from, to: day.end, by: ["model"], backends: .simulated) {
            let name: String = (sum.keys.first ?? nil) ?? "?"
            models.append(Line(label: name + " (simulated)", used: sum.charged.tokens,
                               limit: policy.periodic[.day]?[.model]?[name]?[.tokens], detail: "simulated"))
        }
        models.sort { $0.used != $1.used ? $0.used > $1.used : $0.label < $1.label }
        var board = Dashboard(day: keys.day,
                              daily: Line(label: "Daily Budget", used: try counted("day:\(keys.day)"),
                                          limit: policy.windows[.day]?[.tokens], detail: ""),
                              weekly: try window("Weekly Budget", .week, keys.week),
                              monthly: try window("Monthly Budget", .month, keys.month),
                              total: Line(label: "Total (since the last reset)", used: try counted("total"),
                                          limit: policy.total[.tokens], detail: ""),
                              workflow: workflow, agents: agents, models: models, cost: cost)
        board.simulatedCalls = simulated.calls
        board.unpricedCalls = byModel.reduce(0) { $0 + $1.unpricedCalls }
        board.simulatedTokens = simulated.tokens
        return board
    }

    /// The dashboard as JSON: each budget's used, limit, remaining and
    /// percentage, agents, models, today's cost (an exact decimal string)
    /// and the simulated calls kept apart.
    package func renderJSON() -> String {
        func line(_ l: Line) -> [String: Any] {
            var o: [String: Any] = ["label": l.label, "used_tokens": l.used]
            o["limit_tokens"] = l.limit ?? NSNull()
            o["remaining_tokens"] = l.limit.map { max(0, $0 - l.used) } ?? NSNull()
            o["percent"] = l.limit.map { $0 > 0 ? (Double(l.used) / Double($0) * 1000).rounded() / 10 : 0 } ?? NSNull()
            return o
        }
        var object: [String: Any] = [
            "day": day, "daily": line(daily), "total": line(total),
            "agents": agents.map { var o = line($0); o["agent"] = $0.label; return o },
            "models": models.map { m in
                var o = line(m)
                o["model"] = m.detail == "simulated" ? String(m.label.dropLast(" (simulated)".count)) : m.label
                o["simulated"] = m.detail == "simulated"
                return o
            },
            "cost_today_usd": cost.description.replacingOccurrences(of: "$", with: ""),
            "simulated_today": ["calls": simulatedCalls, "tokens": simulatedTokens],
            "unpriced_calls_today": unpricedCalls,
        ]
        object["weekly"] = weekly.map(line) ?? NSNull()
        object["monthly"] = monthly.map(line) ?? NSNull()
        object["workflow"] = workflow.map(line) ?? NSNull()
        guard let data = try? JSONSerialization.data(withJSONObject: object, options: [.prettyPrinted, .sortedKeys]) else { return "{}\n" }
        return String(decoding: data, as: UTF8.self) + "\n"
    }

    /// `1,234,567`.
    package static func grouped(_ n: Int64) -> String {
        let digits = String(n.magnitude)
        var out = ""
        for (i, ch) in digits.enumerated() {
            if i > 0 && (digits.count - i) % 3 == 0 { out.append(",") }
            out.append(ch)
        }
        return (n < 0 ? "-" : "") + out
    }

    /// `[████████░░░░░░░░]`, coloured green/yellow/red by fullness when `colour`.
    static func bar(_ fraction: Double, width: Int, colour: Bool) -> String {
        let f = max(0, min(1, fraction))
        let filled = Int((f * Double(width)).rounded())
        let body = String(repeating: "█", count: filled) + String(repeating: "░", count: width - filled)
        guard colour else { return "[\(body)]" }
        let code = fraction >= 0.9 ? "31" : fraction >= 0.7 ? "33" : "32"
        return "[\u{1B}[\(code)m\(body)\u{1B}[0m]"
    }

    /// The dashboard as a box of text, `width` columns inside.
    package func render(colour: Bool = false, width: Int = 56) -> String {
        var rows: [String] = []
        func budgetRows(_ l: Line) {
            if let limit = l.limit, limit > 0 {
                let f = Double(l.used) / Double(limit)
                rows.append("  \(l.label)")
                rows.append("    \(Dashboard.bar(f, width: 20, colour: colour)) \(Int((f * 100).rounded()))%")
                rows.append("    \(Dashboard.grouped(l.used)) / \(Dashboard.grouped(limit)) tokens")
            } else {
                rows.append("  \(l.label)")
                rows.append("    \(Dashboard.grouped(l.used)) tokens (no limit set)")
            }
            rows.append("")
        }
        rows.append("")
        budgetRows(daily)
        if let w = weekly { budgetRows(w) }
        if let m = monthly { budgetRows(m) }
        if total.limit != nil || total.used != daily.used { budgetRows(total) }
        if let w = workflow { budgetRows(w) }
        if !agents.isEmpty {
            rows.append("  By Agent (since the last reset):")
            let width = min(22, agents.map(\.label.count).max() ?? 0)
            for a in agents {
                let name = a.label.count > width ? String(a.label.prefix(width - 1)) + "…" : a.label.padding(toLength: width, withPad: " ", startingAt: 0)
                if let limit = a.limit, limit > 0 {
                    let f = Double(a.used) / Double(limit)
                    rows.append("    \(name) \(Dashboard.bar(f, width: 10, colour: colour)) \(String(format: "%3d", Int((f * 100).rounded())))%  \(Dashboard.grouped(a.used)) of \(Dashboard.grouped(limit))")
                } else {
                    rows.append("    \(name) \(Dashboard.grouped(a.used)) tokens")
                }
            }
            rows.append("")
        }
        rows.append("  By Model:")

        if models.isEmpty { rows.append("    no calls today") }
        let total = max(1, models.reduce(0) { $0 + $1.used })
        let nameWidth = min(32, models.map(\.label.count).max() ?? 0)
        for m in models {
            let f = Double(m.used) / Double(m.limit ?? total)
            let name = m.label.count > nameWidth ? String(m.label.prefix(nameWidth - 1)) + "…" : m.label.padding(toLength: nameWidth, withPad: " ", startingAt: 0)
            let of = m.limit.map { " of \(Dashboard.grouped($0))" } ?? ""
            rows.append("    \(name) \(Dashboard.bar(f, width: 10, colour: colour)) \(String(format: "%3d", Int((f * 100).rounded())))%  \(Dashboard.grouped(m.used))\(of)")
        }
        rows.append("")
        rows.append("  Cost today: \(cost)   (\(day))")
        if unpricedCalls > 0 {
            rows.append("    + \(Dashboard.grouped(unpricedCalls)) call\(unpricedCalls == 1 ? "" : "s") to unpriced models (cost unknown)")
        }
        if simulatedCalls > 0 {
            rows.append("  Simulated today: \(Dashboard.grouped(simulatedCalls)) calls, \(Dashboard.grouped(simulatedTokens)) tokens")
            rows.append("    (dry runs: no cost; the budgets above count them)")
        }
        rows.append("")
        // Colour codes take no columns: pad by the visible length.
        func visible(_ s: String) -> Int {
            var n = 0, inEscape = false
            for ch in s {
                if ch == "\u{1B}" { inEscape = true } else if inEscape { if ch == "m" { inEscape = false } } else { n += 1 }
            }
            return n
        }
        let inner = max(width, rows.map(visible).max() ?? 0, title.count + 4)
        var out = "┌" + String(repeating: "─", count: inner) + "┐\n"
        let pad = (inner - title.count) / 2
        out += "│" + String(repeating: " ", count: pad) + title + String(repeating: " ", count: inner - pad - title.count) + "│\n"
        out += "├" + String(repeating: "─", count: inner) + "┤\n"
        for r in rows { out += "│" + r + String(repeating: " ", count: inner - visible(r)) + "│\n" }
        out += "└" + String(repeating: "─", count: inner) + "┘\n"
        return out
    }
}
