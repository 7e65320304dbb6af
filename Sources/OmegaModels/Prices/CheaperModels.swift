import OmegaCore
/// Each expensive model and its cheaper sibling from the same provider: what
/// economy mode switches to (`reduce-quality-to-medium!`) and what reports
/// recommend. One table for both, so advice and behaviour agree.
public enum CheaperModels {
    /// Each expensive model with the cheaper sibling degradation switches it to.
    public static let pairs: [(expensive: String, cheaper: String)] = [
        ("gpt-4o", "gpt-4o-mini"), ("gpt-4.1", "gpt-4.1-mini"), ("gpt-4-turbo", "gpt-4o-mini"),
        ("gpt-4", "gpt-3.5-turbo"), ("gpt-5", "gpt-5-mini"), ("o3", "o4-mini"),
        ("claude-opus-4-1", "claude-sonnet-4-5"), ("claude-sonnet-4-5", "claude-haiku-4-5"),
        ("claude-sonnet-4", "claude-haiku-4-5"), ("claude-3-7-sonnet", "claude-haiku-4-5"),
        ("claude-opus", "claude-sonnet"), ("claude-sonnet", "claude-haiku"),
    ]

    /// The cheaper sibling of `model` (exact name, or a dated snapshot of it), if any.
    public static func sibling(of model: String) -> String? {
        let bare = model.split(separator: "/").last.map(String.init) ?? model
        if let exact = pairs.first(where: { $0.expensive == bare }) { return exact.cheaper }
        // gpt-4o-2024-08-06 → gpt-4o; the longest name that prefixes it, followed by a date.
        let candidates = pairs.filter { bare.hasPrefix($0.expensive + "-") && bare.dropFirst($0.expensive.count + 1).first?.isNumber == true }
        return candidates.max { $0.expensive.count < $1.expensive.count }?.cheaper
    }
}
