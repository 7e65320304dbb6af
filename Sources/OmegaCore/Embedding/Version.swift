/// The version of Omega.
public enum OmegaVersion {
    public static let string = "0.1.0"
}
