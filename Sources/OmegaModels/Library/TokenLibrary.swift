import OmegaCore

/// Token counting, prices and budget conversions for Scheme programs:
///
///     (count-tokens prompt [model])           → exact token count
///     (token-count-exact? [model])            → #t when counts for model are exact
///     (estimate-cost model input output [cached-input]) → exact dollars
///     (model-price model)                     → association list
///     (time->cost minutes)  (cost->tokens dollars [model])  (time->tokens minutes [model])
///     (format-usd dollars)                    → "$0.0125"
///
/// Dollars are exact rationals (1/80 is $0.0125): money is never a flonum.
enum TokenLibrary: NativeLibrary {
    static func register(in interp: Interpreter) {
        interp.define("count-tokens", min: 1, max: 2) { interp, args in
            let model = try modelArgument(args.optional(1), interp, argument: 2)
            let counter = interp.models.tokens
            let count: TokenCount
            switch try Prompt.from(args[0], in: interp) {
            case .text(let s): count = counter.count(s, model: model)
            case .messages(let ms): count = counter.count(messages: ms, model: model)
            }
            if !count.exact { interp.noteOnce("token counts for \(model) are estimates: \(count.note ?? "")") }
            return .init(fixnum: count.tokens)
        }
        interp.define("token-count-exact?", min: 0, max: 1) { interp, args in
            let model = try modelArgument(args.optional(0), interp, argument: 1)
            return interp.models.tokens.count("", model: model).exact ? .true : .false
        }
        interp.define("estimate-cost", min: 3, max: 4) { interp, args in
            let model = try modelName(args[0], interp, argument: 1)
            let usage = TokenUsage(inputTokens: try tokens(args[1], 2), outputTokens: try tokens(args[2], 3),
                                   cacheReadTokens: try args.optional(3).map { try tokens($0, 4) } ?? 0)
            let price = try priceOf(model, interp)
            return dollars(try money { try price.cost(of: usage) }, interp)
        }
        interp.define("model-price") { interp, m in
            let price = try priceOf(try modelName(m, interp, argument: 1), interp)
            func entry(_ key: String, _ v: Value) -> Value { interp.cons(interp.symbol(key), v) }
            func optionalMoney(_ m: Money?) -> Value { m.map { dollars($0, interp) } ?? .false }
            func optionalInt(_ n: Int?) -> Value { n.map { interp.heap.integer($0) } ?? .false }
            return interp.list([
                entry("model", interp.makeString(price.model)),
                entry("provider", interp.makeString(price.provider)),
                entry("input", dollars(price.input, interp)),
                entry("output", dollars(price.output, interp)),
                entry("cache-read", optionalMoney(price.cacheRead)),
                entry("cache-write", optionalMoney(price.cacheWrite)),
                entry("context", optionalInt(price.contextWindow)),
                entry("max-output", optionalInt(price.maxOutputTokens)),
                entry("source", interp.makeString(price.source)),
            ])
        }
        interp.define("time->cost") { interp, minutes in
            let m = try Check.int(minutes)
            guard m >= 0 else { throw SchemeError(.range, "time->cost: minutes must not be negative, got ", irritants: [minutes]) }
            return dollars(try money { try interp.models.conversions.cost(minutes: m) }, interp)
        }
        interp.define("cost->tokens", min: 1, max: 2) { interp, args in
            let amount = try moneyArgument(args[0], interp, argument: 1)
            let model = try modelArgument(args.optional(1), interp, argument: 2)
            return interp.heap.integer(interp.models.conversions.tokens(for: amount, price: try priceOf(model, interp)))
        }
        interp.define("time->tokens", min: 1, max: 2) { interp, args in
            let m = try Check.int(args[0])
            guard m >= 0 else { throw SchemeError(.range, "time->tokens: minutes must not be negative, got ", irritants: [args[0]]) }
            let model = try modelArgument(args.optional(1), interp, argument: 2)
            let price = try priceOf(model, interp)
            let cost = try money { try interp.models.conversions.cost(minutes: m) }
            return interp.heap.integer(interp.models.conversions.tokens(for: cost, price: price))
        }
        interp.define("format-usd") { interp, amount in
            interp.makeString(try moneyArgument(amount, interp, argument: 1).description)
        }
    }

    static func modelName(_ v: Value, _ interp: Interpreter, argument: Int) throws -> String {
        if let s = interp.string(v) { return s }
        if let s = v.as(Symbol.self) { return s.name }
        throw SchemeError.wrongType(v, expected: "a model name (string or symbol)", argument: argument)
    }

    static func modelArgument(_ v: Value?, _ interp: Interpreter, argument: Int) throws -> String {
        guard let v else { return interp.models.defaultModel }
        return try modelName(v, interp, argument: argument)
    }

    static func tokens(_ v: Value, _ argument: Int) throws -> Int {
        let n = try Check.int(v, argument)
        guard n >= 0 else { throw SchemeError(.range, "argument \(argument): a token count must not be negative, got ", irritants: [v]) }
        return n
    }

    static func priceOf(_ model: String, _ interp: Interpreter) throws -> ModelPrice {
        do {
            return try interp.models.prices.requirePrice(for: model)
        } catch let e as PriceError {
            throw SchemeError(.error, e.description)
        }
    }

    static func money(_ body: () throws -> Money) throws -> Money {
        do {
            return try body()
        } catch let e as Money.Overflow {
            throw SchemeError(.range, e.description)
        }
    }

    /// Money as exact rational dollars.
    static func dollars(_ m: Money, _ interp: Interpreter) -> Value {
        let (n, d) = m.fraction
        // Already in lowest terms: no gcd on big integers needed.
        if d == 1 { return interp.heap.integer(Int(n)) }
        return interp.heap.number(.rat(LargeInt(Int(n)), LargeInt(Int(d))))
    }

    /// A number of dollars (exact or inexact) as exact money, to the picodollar.
    static func moneyArgument(_ v: Value, _ interp: Interpreter, argument: Int) throws -> Money {
        let n = try Check.number(v, argument)
        let exact: Num
        if case .flo(let d) = n {
            guard d.isFinite else { throw SchemeError.wrongType(v, expected: "a finite amount of dollars", argument: argument) }
            exact = Num.exact(fromDouble: d)
        } else {
            exact = n
        }
        // round(n × 10¹²) / den, exactly
        let scaled = exact.numerator.multiplied(by: Int(Money.scale))
        let (q, r) = scaled.quotientAndRemainder(dividingBy: exact.denominator)
        let halfOrMore = LargeInt.compare(r.magnitude.shiftedLeft(1), exact.denominator) >= 0
        let rounded = halfOrMore ? q.adding(scaled.isNegative ? -1 : 1) : q
        guard let p = rounded.smallValue.flatMap({ Int64(exactly: $0) }) else {
            throw SchemeError(.range, "argument \(argument): amount of money too large, got ", irritants: [v])
        }
        return Money(picodollars: p)
    }
}

extension Interpreter {
    /// Writes `message` to standard error once per interpreter (a note, not an error).
    func noteOnce(_ message: String) {
        guard !modelRuntime.notesGiven.contains(message) else { return }
        modelRuntime.notesGiven.insert(message)
        FileHandle.standardError.write(Data(("note: " + message + "\n").utf8))
    }
}

import Foundation
