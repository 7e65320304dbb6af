import Foundation
import OmegaModels
import Synchronization

/// The service's counters, written as Prometheus text on `/metrics`: calls,
/// tokens and cost by model and agent, refusals by agent, and reservations
/// in flight.
public final class ServiceMetrics: Sendable {
    private struct Key: Hashable { var model: String; var agent: String }
    private struct State {
        var settled: [Key: Amounts] = [:]
        var refusals: [String: Int] = [:]
        var inFlight = 0
    }
    private let state = Mutex(State())

    /// Empty counters.
    public init() {}

    func settled(model: String, agent: String?, charged: Amounts) {
        state.withLock { $0.settled[Key(model: model, agent: agent ?? ""), default: Amounts()] += charged }
    }

    func refused(agent: String?) {
        state.withLock { $0.refusals[agent ?? "", default: 0] += 1 }
    }

    func setInFlight(_ n: Int) { state.withLock { $0.inFlight = n } }

    /// The Prometheus text exposition (version 0.0.4).
    public func text() -> String {
        let s = state.withLock { $0 }
        var out = ""
        func family(_ name: String, _ type: String, _ help: String, _ samples: [(String, String)]) {
            out += "# HELP \(name) \(help)\n# TYPE \(name) \(type)\n"
            for (labels, value) in samples { out += "\(name)\(labels) \(value)\n" }
        }
        let keys = s.settled.keys.sorted { ($0.model, $0.agent) < ($1.model, $1.agent) }
        func labels(_ k: Key, _ extra: String = "") -> String {
            "{model=\"\(escape(k.model))\",agent=\"\(escape(k.agent))\"\(extra)}"
        }
        family("omega_calls_total", "counter", "Model calls settled (charged or not), by model and agent.",
               keys.map { (labels($0), "\(s.settled[$0]?.calls ?? 0)") })
        family("omega_tokens_total", "counter", "Tokens charged, by model, agent and direction.",
               keys.flatMap { k in [(labels(k, ",direction=\"input\""), "\(s.settled[k]?.inputTokens ?? 0)"),
                                    (labels(k, ",direction=\"output\""), "\(s.settled[k]?.outputTokens ?? 0)")] })
        family("omega_cost_usd_total", "counter", "Money charged in US dollars, by model and agent.",
               keys.map { (labels($0), BudgetService.dollars(s.settled[$0]?.picodollars ?? 0)) })
        family("omega_refusals_total", "counter", "Calls refused by a budget, by agent.",
               s.refusals.keys.sorted().map { ("{agent=\"\(escape($0))\"}", "\(s.refusals[$0] ?? 0)") })
        family("omega_reservations_in_flight", "gauge", "Reservations taken and not yet settled.",
               [("", "\(s.inFlight)")])
        return out
    }

    private func escape(_ s: String) -> String {
        s.replacingOccurrences(of: "\\", with: "\\\\").replacingOccurrences(of: "\"", with: "\\\"")
            .replacingOccurrences(of: "\n", with: "\\n")
    }
}
