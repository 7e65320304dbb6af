import Foundation
import OmegaCore

/// The ledger's budget counters: settled spend summed per key in
/// `window_totals`, so that a limit counts everything recorded since its
/// last reset, whichever run or process spent it.
///
/// Keys:
/// - `total` — everything (seed 002's `total_budget`);
/// - `day:2026-11-23`, `week:2026-W48`, `month:2026-11` — the calendar windows;
/// - `model:gpt-4o`, `agent:code-reviewer`, `workflow:sprint`,
///   `shared:team-research` — one name, since its reset;
/// - `day:2026-11-23/model:gpt-4o` … — one name within one window.
///
/// The window part never holds a `/`, so a name may (`meta-llama/Llama-3-8B`).
public enum BudgetCounter {
    /// Every counter a settled call adds to.
    public static func keys(of c: Ledger.Call) -> [String] {
        keys(day: c.day, week: c.week, month: c.month, model: c.model, agent: c.agent, workflow: c.workflow, shared: c.shared)
    }

    /// Every counter a call in these windows, for this model, agent,
    /// workflow and shared budgets, adds to.
    public static func keys(day: String, week: String, month: String, model: String, agent: String?,
                            workflow: String?, shared: [String] = []) -> [String] {
        let windows = ["day:" + day, "week:" + week, "month:" + month]
        var result = ["total"] + windows
        let names = [("model", model as String?), ("agent", agent), ("workflow", workflow)] + shared.map { ("shared", $0 as String?) }
        for (kind, name) in names {
            guard let name, !name.isEmpty else { continue }
            let own = "\(kind):\(name)"
            result.append(own)
            for w in windows { result.append(w + "/" + own) }
        }
        return result
    }

    /// The counter of a scope: `kind` a name's kind (or nil for the total or
    /// a bare window), `window` a calendar window's key (`day:2026-11-23`) or nil.
    public static func key(kind: BudgetScope.Kind?, name: String, window: String?) -> String {
        let own = kind.map { "\($0.rawValue):\(name)" }
        switch (window, own) {
        case let (w?, o?): return w + "/" + o
        case let (w?, nil): return w
        case let (nil, o?): return o
        case (nil, nil): return "total"
        }
    }

    /// Keys as stored in a reservation's `counters`: each between newlines,
    /// so that `instr` finds one whole key.
    static func delimited(_ keys: [String]) -> String {
        "\n" + keys.joined(separator: "\n") + "\n"
    }

    /// What a counter key means, for messages: `agent code-reviewer`,
    /// `agent code-reviewer on 2026-11-23`, `the day 2026-11-23`, `the total`.
    public static func describe(_ key: String) -> String {
        if key == "total" { return "the total" }
        func window(_ w: Substring) -> String {
            let parts = w.split(separator: ":", maxSplits: 1)
            guard parts.count == 2 else { return String(w) }
            switch parts[0] {
            case "day": return "the day \(parts[1])"
            case "week": return "the week \(parts[1])"
            case "month": return "the month \(parts[1])"
            default: return String(w)
            }
        }
        func own(_ o: Substring) -> String {
            let parts = o.split(separator: ":", maxSplits: 1)
            return parts.count == 2 ? "\(parts[0]) \(parts[1])" : String(o)
        }
        if let slash = key.firstIndex(of: "/") {
            let w = key[..<slash], o = key[key.index(after: slash)...]
            return "\(own(o)) in \(window(w))"
        }
        if ["day:", "week:", "month:"].contains(where: { key.hasPrefix($0) }) { return window(key[...]) }
        return own(key[...])
    }
}
