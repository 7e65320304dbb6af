import Foundation
import OmegaCore

/// The usage report of a day, ISO week or month from the ledger
/// (`omega tokens report`, the REPL's `:tokens report`): usage and cost by
/// model, agent, workflow or operation; the budget's limit, remaining and
/// percentage; the alerts raised; the trend against the previous period; a
/// forecast of the period's end; and recommendations.
package struct UsageReport {
    package enum Period: String, CaseIterable, Sendable {
        case daily, weekly, monthly
        var kind: BudgetScope.Kind { self == .daily ? .day : self == .weekly ? .week : .month }
        var noun: String { self == .daily ? "day" : self == .weekly ? "week" : "month" }
    }

    package enum Dimension: String, CaseIterable, Sendable {
        case model, agent, workflow, operation
    }

    /// One group of calls.
    package struct Row: Equatable, Sendable {
        package var key: String
        package var calls: Int64
        package var inputTokens: Int64
        package var outputTokens: Int64
        package var cost: Money
        /// Calls to models without a price (their cost is unknown, not zero).
        package var unpricedCalls: Int64 = 0
        package var tokens: Int64 { inputTokens + outputTokens }
        /// `$0.0042`, `$0.0042 + 3 unpriced`, `unpriced`.
        package var costText: String {
            guard unpricedCalls > 0 else { return cost.description }
            return calls == unpricedCalls ? "unpriced" : "\(cost) + \(unpricedCalls) unpriced"
        }
    }

    package var period: Period
    package var dimension: Dimension
    /// The window's key (`2026-11-23`, `2026-W48`, `2026-11`) and its bounds.
    package var window: String
    package var interval: DateInterval
    package var generated: Date
    package var rows: [Row]
    package var total: Row
    package var previousWindow: String
    package var previous: Row
    /// The token limit of the window, when one is configured.
    package var limit: Int64?
    /// What the window counts against its limit (after resets).
    package var counted: Int64
    package var alerts: [Ledger.Alert]
    /// Tokens and cost at the window's end if use goes on at the pace so far.
    package var forecastTokens: Int64
    package var forecastCost: Money
    package var recommendations: [String]
    /// Calls the offline simulator answered in the window (dry runs): left
    /// out of the rows, totals, forecast and advice unless asked for.
    package var simulated: Row
    package var includesSimulated: Bool

    package var remaining: Int64? { limit.map { max(0, $0 - counted) } }
    package var percent: Double? { limit.map { $0 > 0 ? Double(counted) / Double($0) * 100 : 0 } }
    /// Forecast against the previous period's total, in percent (nil when
    /// the previous period had no use).
    package var trend: Double? {
        previous.tokens > 0 ? (Double(forecastTokens) - Double(previous.tokens)) / Double(previous.tokens) * 100 : nil
    }

    /// Builds the report of the window that holds `now`.
    package static func make(ledger: any LedgerReporting, policy: BudgetPolicy, prices: PriceTable, period: Period,
                            by dimension: Dimension, includeSimulated: Bool = false, now: Date = Date()) throws -> UsageReport {
        let backends: Ledger.Backends = includeSimulated ? .all : .real
        let windows = CalendarWindows(timeZone: policy.timeZone)
        let interval = windows.interval(period.kind, at: now)
        let before = windows.interval(period.kind, at: interval.start.addingTimeInterval(-1))
        let key = windows.key(period.kind, at: now)
        func row(_ key: String, _ a: Amounts) -> Row {
            Row(key: key, calls: a.calls, inputTokens: a.inputTokens, outputTokens: a.outputTokens, cost: Money(picodollars: a.picodollars))
        }
        // Sums by SQLite: a month of a busy ledger is not read call by call.
        let rows = try ledger.usageSums(from: interval.start, to: interval.end, by: [dimension.rawValue], backends: backends)
            .map { sum -> Row in
                var r = row(sum.keys.first.flatMap { $0 } ?? "(none)", sum.charged)
                r.unpricedCalls = sum.unpricedCalls
                return r
            }
            .sorted { $0.tokens != $1.tokens ? $0.tokens > $1.tokens : $0.key < $1.key }
        var total = row("total", try ledger.totals(from: interval.start, to: interval.end, backends: backends))
        total.unpricedCalls = rows.reduce(0) { $0 + $1.unpricedCalls }
        let previous = row("total", try ledger.totals(from: before.start, to: before.end, backends: backends))
        let simulated = row("simulated", try ledger.totals(from: interval.start, to: interval.end, backends: .simulated))
        let counted = try ledger.windowTotal("\(period.kind.rawValue):\(key)").tokens

        // Pace so far, over the part of the window gone by (at least an hour,
        // so the first minutes of a day do not forecast wildly).
        let elapsed = max(3600, min(interval.duration, now.timeIntervalSince(interval.start)))
        let scale = interval.duration / elapsed
        let forecastTokens = Int64((Double(total.tokens) * scale).rounded())
        // An estimate: to the millionth of a dollar, not the picodollar.
        let forecastCost = Money(picodollars: Int64((Double(total.cost.picodollars) * scale / 1e6).rounded()) * 1_000_000)

        var report = UsageReport(
            period: period, dimension: dimension, window: key, interval: interval, generated: now,
            rows: rows, total: total, previousWindow: windows.key(period.kind, at: before.start), previous: previous,
            limit: policy.windows[period.kind]?[.tokens], counted: counted,
            alerts: try ledger.alerts(from: interval.start, to: interval.end),
            forecastTokens: forecastTokens, forecastCost: forecastCost, recommendations: [],
            simulated: simulated, includesSimulated: includeSimulated)
        report.recommendations = advice(
            byWorkflowAndModel: try ledger.usageSums(from: interval.start, to: interval.end, by: ["workflow", "model"],
                                                     providerAnsweredOnly: true, backends: backends),
            repeated: policy.cache ? Amounts() : try ledger.repeatedRequests(from: interval.start, to: interval.end,
                                                                            backends: backends),
            report: report, prices: prices)
        return report
    }

    /// The seeds' recommendations, each only when the ledger shows a reason:
    /// a cheaper model for a workflow's expensive calls, caching for repeated
    /// requests, a budget nearer to real use, or more budget before it runs out.
    static func advice(byWorkflowAndModel groups: [Ledger.UsageSum], repeated: Amounts, report: UsageReport,
                       prices: PriceTable) -> [String] {
        var out: [String] = []
        // Cheaper models, per workflow: the same tokens priced on the sibling
        // (prices are per token, so pricing the sums is exact).
        var savings: [(workflow: String?, model: String, cheaper: String, cost: Money, saving: Int64)] = []
        for g in groups {
            guard let model = g.keys.count == 2 ? g.keys[1] : nil, let cheaper = CheaperModels.sibling(of: model),
                  let price = prices.price(for: cheaper), let cheap = try? price.cost(of: g.usage) else { continue }
            let saving = g.charged.picodollars - cheap.picodollars
            if saving > 0 { savings.append((g.keys[0], model, cheaper, Money(picodollars: g.charged.picodollars), saving)) }
        }
        for e in savings.sorted(by: { $0.saving > $1.saving }).prefix(3)
            where e.saving * 5 >= max(1, report.total.cost.picodollars) / 4 {
            let place = e.workflow.map { "workflow \($0)" } ?? "calls outside a workflow"
            out.append("Switch \(place) from \(e.model) to \(e.cheaper): it spent \(e.cost) there; the same tokens would cost \(Money(picodollars: e.cost.picodollars - e.saving)) (:tokens mode economy does it for a session).")
        }
        // Caching: identical requests answered by the provider more than once.
        if repeated.calls > 0 {
            out.append("Turn on caching (budget.cache = true, or (enable-caching!)): \(repeated.calls) call\(repeated.calls == 1 ? "" : "s") repeated an earlier request exactly, \(Dashboard.grouped(repeated.tokens)) tokens, \(Money(picodollars: repeated.picodollars)).")
        }
        // Budgets: one that will run out, or one far above real use.
        let noun = report.period.noun
        if let limit = report.limit {
            if report.forecastTokens > limit {
                out.append("At this pace the \(noun) ends at \(Dashboard.grouped(report.forecastTokens)) tokens, over its budget of \(Dashboard.grouped(limit)): raise the budget (omega tokens budget --\(report.period.rawValue) N) or move work to cheaper models.")
            } else if report.total.tokens > 0, report.forecastTokens * 3 < limit, report.previous.tokens * 3 < limit {
                let suggested = max(report.forecastTokens, report.previous.tokens) * 3 / 2
                out.append("The \(noun)'s budget of \(Dashboard.grouped(limit)) is far above use (forecast \(Dashboard.grouped(report.forecastTokens)), previous \(Dashboard.grouped(report.previous.tokens))): a lower budget of about \(Dashboard.grouped(roundUp(suggested))) would catch a runaway sooner.")
            }
        } else if report.total.tokens > 0 {
            out.append("No \(report.period.rawValue) budget is set: omega tokens budget --\(report.period.rawValue) \(roundUp(max(report.forecastTokens, report.previous.tokens) * 3 / 2)) would cap runaways at 1.5 × this pace.")
        }
        return out
    }

    static func roundUp(_ n: Int64) -> Int64 {
        guard n > 100 else { return max(n, 1) }
        var step: Int64 = 1
        while step * 100 <= n { step *= 10 }
        return (n + step - 1) / step * step
    }

    // MARK: Output

    /// A readable report for the terminal.
    package func renderText() -> String {
        var out = "Token usage report — \(period.rawValue), \(window)\n\n"
        let header = [dimension.rawValue.capitalized, "Calls", "Input", "Output", "Tokens", "Share", "Cost"]
        var table = [header]
        for r in rows {
            let share = total.tokens > 0 ? String(format: "%.1f%%", Double(r.tokens) / Double(total.tokens) * 100) : "-"
            table.append([r.key, Dashboard.grouped(r.calls), Dashboard.grouped(r.inputTokens), Dashboard.grouped(r.outputTokens),
                          Dashboard.grouped(r.tokens), share, r.costText])
        }
        table.append(["Total", Dashboard.grouped(total.calls), Dashboard.grouped(total.inputTokens),
                      Dashboard.grouped(total.outputTokens), Dashboard.grouped(total.tokens), total.tokens > 0 ? "100%" : "-",
                      total.costText])
        if rows.isEmpty { out += "  no calls this \(period.noun)\n" } else { out += UsageReport.table(table) }
        out += "\n"
        if let limit, let remaining, let percent {
            out += "Budget:    \(Dashboard.grouped(counted)) of \(Dashboard.grouped(limit)) tokens (\(String(format: "%.1f", percent))%), \(Dashboard.grouped(remaining)) remaining\n"
        } else {
            out += "Budget:    no \(period.rawValue) token budget set\n"
        }
        if total.unpricedCalls > 0 {
            let n = total.unpricedCalls
            out += "Unpriced:  \(Dashboard.grouped(n)) call\(n == 1 ? "" : "s") to models without a price: their cost is unknown, not $0 (add them under [prices.models])\n"
        }
        if simulated.calls > 0 {
            out += includesSimulated
                ? "Simulated: \(Dashboard.grouped(simulated.calls)) calls, \(Dashboard.grouped(simulated.tokens)) tokens are included above (dry runs, not spending)\n"
                : "Simulated: \(Dashboard.grouped(simulated.calls)) calls, \(Dashboard.grouped(simulated.tokens)) tokens left out above (dry runs with the offline simulator: not spending; --simulated includes them)\n"
        }
        let expected = includesSimulated ? total.tokens : total.tokens + simulated.tokens
        if counted != expected {
            out += "           (the budget counts \(Dashboard.grouped(counted)): the window was reset)\n"
        } else if simulated.calls > 0, limit != nil {
            out += "           (the budget counts simulated calls too, so a dry run shows what the budget will do)\n"
        }
        let trendText = trend.map { String(format: "%+.0f%%", $0) } ?? "no use in the previous \(period.noun)"
        out += "Previous:  \(previousWindow): \(Dashboard.grouped(previous.tokens)) tokens, \(previous.cost)\n"
        out += "Forecast:  \(Dashboard.grouped(forecastTokens)) tokens, \(forecastCost) by the end of the \(period.noun) (trend \(trendText))\n"
        let warnings = alerts.count
        out += "Alerts:    \(warnings == 0 ? "none" : "\(warnings)")\n"
        for a in alerts.suffix(5) { out += "  - \(a.kind): \(a.message)\n" }
        if alerts.count > 5 { out += "  (\(alerts.count - 5) earlier not shown)\n" }
        out += "\nRecommendations:\n"
        if recommendations.isEmpty { out += "  none: use is within budget and nothing repeated\n" }
        for r in recommendations { out += "  - \(r)\n" }
        return out
    }

    /// Columns padded to their widest cell; numbers right-aligned.
    static func table(_ rows: [[String]]) -> String {
        guard let first = rows.first else { return "" }
        var widths = Array(repeating: 0, count: first.count)
        for r in rows { for (i, c) in r.enumerated() { widths[i] = max(widths[i], c.count) } }
        var out = ""
        for (n, r) in rows.enumerated() {
            var line = " "
            for (i, c) in r.enumerated() {
                let pad = String(repeating: " ", count: widths[i] - c.count)
                line += i == 0 ? " " + c + pad : "  " + pad + c
            }
            out += line + "\n"
            if n == 0 || n == rows.count - 2 {
                out += "  " + widths.map { String(repeating: "─", count: $0) }.joined(separator: "  ") + "\n"
            }
        }
        return out
    }

    /// The report as JSON (money as exact decimal strings).
    package func renderJSON() -> String {
        func row(_ r: Row) -> [String: Any] {
            ["key": r.key, "calls": r.calls, "input_tokens": r.inputTokens, "output_tokens": r.outputTokens,
             "tokens": r.tokens, "cost_usd": r.cost.description.replacingOccurrences(of: "$", with: ""),
             "unpriced_calls": r.unpricedCalls]
        }
        var object: [String: Any] = [
            "period": period.rawValue, "window": window, "by": dimension.rawValue,
            "start": ISO8601DateFormatter().string(from: interval.start), "end": ISO8601DateFormatter().string(from: interval.end),
            "rows": rows.map(row), "total": row(total),
            "previous": ["window": previousWindow, "tokens": previous.tokens,
                         "cost_usd": previous.cost.description.replacingOccurrences(of: "$", with: "")],
            "counted_tokens": counted,
            "simulated": row(simulated), "includes_simulated": includesSimulated,
            "forecast": ["tokens": forecastTokens, "cost_usd": forecastCost.description.replacingOccurrences(of: "$", with: "")],
            "alerts": alerts.map { ["time": ISO8601DateFormatter().string(from: $0.time), "kind": $0.kind, "scope": $0.scope, "message": $0.message] },
            "recommendations": recommendations,
        ]
        object["limit_tokens"] = limit ?? NSNull()
        object["remaining_tokens"] = remaining ?? NSNull()
        object["percent"] = percent.map { ($0 * 10).rounded() / 10 } ?? NSNull()
        object["trend_percent"] = trend.map { $0.rounded() } ?? NSNull()
        guard let data = try? JSONSerialization.data(withJSONObject: object, options: [.prettyPrinted, .sortedKeys]),
              let text = String(data: data, encoding: .utf8) else { return "{}\n" }
        return text + "\n"
    }

    /// The rows as CSV (RFC 4180), with a total line.
    package func renderCSV() -> String {
        func field(_ s: String) -> String {
            s.contains(where: { $0 == "," || $0 == "\"" || $0 == "\n" }) ? "\"" + s.replacingOccurrences(of: "\"", with: "\"\"") + "\"" : s
        }
        var out = "period,window,\(dimension.rawValue),calls,input_tokens,output_tokens,tokens,cost_usd\n"
        for r in rows + [total] {
            out += [period.rawValue, window, r.key, "\(r.calls)", "\(r.inputTokens)", "\(r.outputTokens)", "\(r.tokens)",
                    r.cost.description.replacingOccurrences(of: "$", with: "")].map(field).joined(separator: ",") + "\n"
        }
        return out
    }
}
