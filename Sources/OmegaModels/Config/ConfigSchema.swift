import Foundation
import OmegaCore

/// Every key a configuration may have. A file is checked against it when it
/// is read: an unknown key or table is an error naming file, line and the
/// nearest known key, so a typo (`[bugdet]`, `modle`) never silently does
/// nothing. Tables whose keys are names people choose (models, agents,
/// workflows, prices) are open; what is inside them is checked where it is read.
enum ConfigSchema {
    indirect enum Node {
        /// A value (checked where it is read).
        case value
        /// A table with these keys.
        case table([String: Node])
        /// A table whose keys are names people choose.
        case open
    }

    static let root: Node = .table([
        "model": .value, "backend": .value, "replay": .value,
        "openai": .table(["base-url": .value, "stream": .value, "max-connections": .value]),
        "anthropic": .table(["base-url": .value, "stream": .value, "max-connections": .value]),
        "ollama": .table(["host": .value, "stream": .value, "max-connections": .value]),
        "simulate": .table(["latency": .value, "min-ratio": .value, "max-ratio": .value, "fault": .value]),
        "effects": .table(["max-tokens": .value, "max-in-flight": .value, "samples": .value, "timeout": .value]),
        "prices": .table(["litellm": .value, "dollars-per-hour": .value, "default": .open, "models": .open]),
        "tokenizer": .table(["fallback-encoding": .value, "models": .open]),
        "repl": .table(["approvals": .value, "history": .value]),
        "ledger": .table(["path": .value, "url": .value, "on_failure": .value, "lease": .value]),
        "serve": .table(["listen": .value, "keys": .value, "reservation_timeout": .value]),
        "limits": .table(["memory": .value, "time": .value, "sandbox": .value, "allow": .value]),
        "budget": .table([
            "time_zone": .value, "thresholds": .value, "emergency_percent": .value, "cache": .value,
            "bound_ratio": .value, "bound_overhead": .value, "allow_unpriced": .value,
            "run": .open, "total": .open, "daily": .open, "weekly": .open, "monthly": .open, "levels": .open,
            "models": .open, "agents": .open, "workflows": .open, "shared": .open, "degrade": .open,
        ]),
        "token_budget": .table(["total_budget": .value, "warning_threshold": .value, "per_agent_limits": .open]),
        "alerts": .table([
            "console": .table(["threshold": .value]),
            "file": .table(["path": .value, "threshold": .value]),
            "webhook": .table(["url": .value, "threshold": .value]),
            "command": .table(["run": .value, "threshold": .value]),
            "email": .table(["to": .value, "threshold": .value, "sendmail": .value]),
        ]),
    ])

    /// Throws for the first key the schema does not know.
    static func check(_ table: TOMLTable, file: URL?) throws {
        try check(table, .table(Self.rootKeys), path: "", file: file)
    }

    private static var rootKeys: [String: Node] {
        if case .table(let keys) = root { return keys }
        return [:]
    }

    private static func check(_ table: TOMLTable, _ node: Node, path: String, file: URL?) throws {
        guard case .table(let known) = node else { return }
        for key in table.keys {
            let full = path.isEmpty ? key : "\(path).\(key)"
            let place = "\(table.sources[key] ?? file?.path ?? "config"):\(table.lines[key] ?? 0)"
            guard let child = known[key] else {
                let near = nearest(key, among: Array(known.keys))
                let listed = known.count <= 8 ? " (known: \(known.keys.sorted().joined(separator: ", ")))" : ""
                let hint = near.map { " (did you mean \(path.isEmpty ? $0 : "\(path).\($0)")?)" } ?? listed
                let what = path.isEmpty ? "setting or table" : "key in [\(path)]"
                throw ConfigError(place: place, key: full, message: "unknown \(what)\(hint)")
            }
            switch (child, table[key]) {
            case (.table, .table(let sub)?): try check(sub, child, path: full, file: file)
            case (.table, let v?):
                throw ConfigError(place: place, key: full, message: "expected a table, got \(v.kind)")
            default: break
            }
        }
    }

    /// The known name nearest to `name` (within a few edits), if any.
    static func nearest(_ name: String, among names: [String]) -> String? {
        let wanted = Array(name.lowercased())
        let scored = names.map { ($0, PriceTable.editDistance(wanted, Array($0.lowercased()), cap: 3)) }
            .filter { $0.1 <= max(2, wanted.count / 3) }
        return scored.min { $0.1 != $1.1 ? $0.1 < $1.1 : $0.0 < $1.0 }?.0
    }
}
