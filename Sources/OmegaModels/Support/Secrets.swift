import Foundation
import OmegaCore

/// The credentials this process was given (API keys), and the one place
/// that takes every form of them out of a text before it reaches output,
/// logs, the ledger or a cassette: as given, in any letter case,
/// percent-encoded, and a key's beginning cut off at the end of a text.
///
/// Process-wide on purpose: a key registered by one interpreter's backend
/// must not be printed by another's error path either.
public enum Secrets {
    private final class Store: @unchecked Sendable {
        let lock = NSLock()
        var forms: [String: [String]] = [:]
    }
    private static let store = Store()

    /// What replaces a secret.
    public static let mask = "[key]"

    /// Remembers `secret` (nil, empty or shorter than 6 characters: nothing).
    public static func register(_ secret: String?) {
        guard let s = secret?.trimmingCharacters(in: .whitespacesAndNewlines), s.count >= 6 else { return }
        store.lock.lock()
        defer { store.lock.unlock() }
        guard store.forms[s] == nil else { return }
        var forms = [s]
        if let p = s.addingPercentEncoding(withAllowedCharacters: .alphanumerics), p != s { forms.append(p) }
        forms.append(s.utf8.map { String(format: "%%%02X", $0) }.joined())
        if let j = String(data: (try? JSONSerialization.data(withJSONObject: [s])) ?? Data(), encoding: .utf8) {
            let escaped = String(j.dropFirst(2).dropLast(2))
            if escaped != s { forms.append(escaped) }
        }
        store.forms[s] = forms
    }

    /// `text` with every registered secret, in every form, replaced by `[key]`.
    public static func scrub(_ text: String) -> String {
        store.lock.lock()
        let all = store.forms
        store.lock.unlock()
        guard !all.isEmpty, !text.isEmpty else { return text }
        var t = text
        for (secret, forms) in all {
            for f in forms where t.range(of: f, options: .caseInsensitive) != nil {
                t = t.replacingOccurrences(of: f, with: mask, options: .caseInsensitive)
            }
            // A key cut off at the end (a server that truncated its echo).
            let minimum = min(8, secret.count)
            var n = secret.count - 1
            while n >= minimum {
                let head = String(secret.prefix(n))
                if t.lowercased().hasSuffix(head.lowercased()) {
                    t = String(t.dropLast(n)) + mask
                    break
                }
                n -= 1
            }
        }
        return t
    }
}
