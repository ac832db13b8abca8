/// numpy's `np.pad(..., mode="reflect")` as an index map: coordinate `i` of a line of `count`
/// pixels, anywhere on the integer line, to the pixel it reads. The border pixel is not
/// repeated (..., 2, 1, | 0, 1, 2, ..., n-1, | n-2, n-3, ...). For pads wider than the image
/// numpy reflects again and again, which is the periodic triangle wave of period 2(n-1); this
/// is that, so an image smaller than the tile padding (even 2x2) tiles exactly as HoVer-Net's
/// `np.pad` would. A line of one pixel (period 0) repeats that pixel, as numpy does.
public enum ReflectPadding {
    public static func index(_ i: Int, count: Int) -> Int {
        precondition(count > 0, "reflecting into an empty line")
        if count == 1 { return 0 }
        if i >= 0 && i < count { return i }
        let period = 2 * (count - 1)
        var m = i % period
        if m < 0 { m += period }
        return m < count ? m : period - m
    }
}
