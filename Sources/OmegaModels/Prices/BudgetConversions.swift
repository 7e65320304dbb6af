import OmegaCore
/// Conversions between time, money and tokens, as the token-budget seed
/// defines them: a time budget buys money at a fixed rate (4 hours = $10),
/// and money buys tokens at the model's output price — conservative, since
/// output tokens are the dearer ones.
public struct BudgetConversions: Sendable, Equatable {
    /// Money one budget minute is worth (default $10 / 240 minutes).
    public var dollarsPerHour: Money

    /// The seed's scale: 4 hours = $10, i.e. $2.50 an hour.
    public init(dollarsPerHour: Money = Money(picodollars: 2_500_000_000_000)) {
        self.dollarsPerHour = dollarsPerHour
    }

    /// The money a time budget of `minutes` is worth (exact, floored to a picodollar).
    public func cost(minutes: Int) throws -> Money {
        let perHour = dollarsPerHour.picodollars
        let (p, o) = perHour.multipliedReportingOverflow(by: Int64(minutes))
        if o { throw Money.Overflow() }
        return Money(picodollars: p / 60)
    }

    /// The whole tokens `money` buys at `price`'s output rate (rounded down).
    public func tokens(for money: Money, price: ModelPrice) -> Int {
        guard price.output.picodollars > 0, money.picodollars > 0 else { return 0 }
        return Int(money.picodollars / price.output.picodollars)
    }

    /// The tokens a time budget of `minutes` buys with `price`'s model.
    public func tokens(minutes: Int, price: ModelPrice) throws -> Int {
        tokens(for: try cost(minutes: minutes), price: price)
    }
}
