import OmegaCore
/// A prompt as a Scheme program writes it, normalised: plain text, or a chat
/// message list.
///
/// - a string is the text;
/// - a list of `(role . content)` pairs, roles being symbols or strings
///   (`((system . "Be terse.") (user . "Hi"))`), is a message list;
/// - any other list is displayed element by element and concatenated, so
///   `(list "Brief summary (50 words): " doc)` reads as one text.
public enum Prompt: Sendable, Equatable {
    case text(String)
    case messages([ChatMessage])

    /// Normalises a prompt value; other values are an error naming the argument.
    static func from(_ v: Value, in interp: Interpreter, argument: Int = 1) throws -> Prompt {
        if let s = interp.string(v) { return .text(s) }
        guard v.isPair || v.isNull, let items = interp.array(v) else {
            throw SchemeError.wrongType(v, expected: "a prompt (a string, a list, or a list of (role . text) messages)",
                                        argument: argument)
        }
        let messages: [ChatMessage] = items.compactMap { item in
            guard item.isPair else { return nil }
            let p = item.pair
            let role = p.car.as(Symbol.self)?.name ?? interp.string(p.car)
            guard let role, let content = interp.string(p.cdr) else { return nil }
            return ChatMessage(role: role, content: content)
        }
        if !items.isEmpty && messages.count == items.count { return .messages(messages) }
        return .text(items.map { interp.displayString($0) }.joined())
    }

    /// The prompt as one text (messages joined by newlines), for estimates.
    public var flattened: String {
        switch self {
        case .text(let s): return s
        case .messages(let ms): return ms.map(\.content).joined(separator: "\n")
        }
    }
}
