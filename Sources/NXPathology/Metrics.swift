/// The evaluation metrics of the HistoNeXt paper (eq. 13-21), computed as HoVer-Net's and
/// PanNuke's evaluation scripts compute them; `Spec/METRICS.md` gives every formula and rule.
/// This enum is only a namespace: the functions live in the `Metrics*.swift` files beside it.
public enum Metrics {
    /// HoVer-Net's pairing radius for nucleus centroids, in pixels.
    public static let defaultRadius = 12.0

    /// HoVer-Net adds this to the union in AJI and AJI+'s IoU and to SQ's denominator; kept so
    /// numbers match the published tooling.
    static let epsilon = 1.0e-6
}
