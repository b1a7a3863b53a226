"""repr() of a float, for PyPy, where float.__repr__ costs 0.5-1 us (C code behind a slow
call) while the JIT compiles the float and small-int arithmetic below to machine code: about
a quarter of that. The same text as repr(), always: what cannot be decided exactly here
(values outside [1e-4, 1e15), a tie at 16 or 17 digits) goes to repr().

The shortest text that reads back as the float, as repr() writes it, is found by trying 15,
16 and 17 significant digits: the nearest p-digit decimal N / 10**j to the float. For a
float in that range no other 15-digit decimal reads back as the float unless the nearest one
does, nor another 16-digit one (but for a power of two, whose interval is asymmetric: the 64
in that range are written right, tests/test_float_repr.py checks them), and 17 digits always do.
The three N come from the float times 10**j for 17 digits, made exactly as the sum of two
floats (Dekker's product); whether N / 10**j reads back as the float is
float(N) / 10.0**j == float, exact when both are exact doubles (N < 2**53, j <= 22): one
correctly rounded division, as reading the text back rounds. A 16-digit N from 2**53 up (a
tenth of full-precision values: 0.9007... to 0.9999...) is checked by its distance from the
float instead, against half the spacing of doubles there."""
import math

_float_repr = float.__repr__
_frexp = math.frexp
_ldexp = math.ldexp
_log10 = math.log10
_POWERS = [10.0 ** j for j in range(21)]  # exact doubles (up to 10**22)
# 10.0**-5 .. 10.0**16; each negative power's double is above the real one, so a float is
# at least 10**point exactly when it is at least _TENS[point + 5].
_TENS = [10.0 ** point for point in range(-5, 17)]
_LIMITS = [10 ** digits for digits in range(18)]
_LEADING = ["0.", "0.0", "0.00", "0.000"]  # before the first digit, at 10**-1 .. 10**-4
_EXACT = 2 ** 53  # integers below this are exact doubles
_SPLIT = 134217729.0  # 2**27 + 1: cuts a double into two halves of 26 bits
# The float arithmetic here errs by far less than this; a tie closer than this: repr() decides.
_MARGIN = 1e-9


def float_repr(value):
    """repr(value), for a float ``value``."""
    if 1e-4 <= value < 1e15:
        text = _positive_repr(value)
    elif -1e15 < value <= -1e-4:
        text = _positive_repr(-value)
        if text is not None:
            text = "-" + text
    else:
        text = None
    return _float_repr(value) if text is None else text


def _positive_repr(value):
    """repr(value) for 1e-4 <= value < 1e15, or None when repr() must decide. Straight-line
    code: a loop here would be a JIT loop of its own, entered and left at a cost each time."""
    # 10**point <= value < 10**(point + 1), or one off. int() truncates: +5 keeps it positive,
    # where it is floor() without floor()'s call.
    point = int(_log10(value) + 5.0) - 5
    if value < _TENS[point + 5]:
        point -= 1
    elif value >= _TENS[point + 6]:
        point += 1
    # value * 10**(16 - point), from 1e16 to 1e17: high + low exactly, high an integer.
    high, low = _exact_product(value, _POWERS[16 - point])
    whole = int(high)
    number = _nearest(whole, low, 100, 15)
    # None here (a tie, or 10**15: 10**(point + 1)) reads back as no double of this range:
    # such a decimal is 50 units of the 17th digit from the float, the doubles at most 22 apart.
    if number is not None and number / _POWERS[14 - point] == value:
        return _fixed_point(str(number).rstrip("0"), point)
    # From here on no trailing zero: without it, fewer digits would have read back.
    number = _nearest(whole, low, 10, 16)
    if number is None:
        return None
    if number < _EXACT:
        reads_back = number / _POWERS[15 - point] == value
    else:  # no double holds it, to divide exactly: its distance from the float decides
        reads_back = _nearer_than_half_spacing(number * 10 - whole - low, value, _POWERS[16 - point])
        if reads_back is None:
            return None
    if reads_back:
        return _with_point(str(number), point)
    number = _nearest(whole, low, 1, 17)  # 17 digits always read back
    if number is None:
        return None
    return _with_point(str(number), point)


def _nearest(whole, low, unit, digits):
    """The integer nearest to (whole + low) / unit, when it has ``digits`` digits and is not
    (nearly) a tie; else None."""
    quotient = whole // unit
    rest = (whole - quotient * unit + low) / unit  # from -8 to 8, as |low| <= 8
    step = int(rest + 8.5) - 8  # floor(rest + 0.5), as int() of a positive number
    number = quotient + step
    if _LIMITS[digits - 1] <= number < _LIMITS[digits] and abs(rest - step) < 0.5 - _MARGIN:
        return number
    return None


def _nearer_than_half_spacing(distance, value, scale):
    """Whether a decimal ``distance`` / ``scale`` from ``value`` reads back as ``value``: whether
    it is nearer than half the spacing of doubles there. None when too close to call, or for a
    power of two (the spacing below it is half that above)."""
    fraction, exponent = _frexp(value)  # value = fraction * 2**exponent, 0.5 <= fraction < 1
    half = _ldexp(scale, exponent - 54)  # half of 2**(exponent - 53), scaled: exact
    if fraction == 0.5 or abs(abs(distance) - half) < _MARGIN:
        return None
    return abs(distance) < half


def _exact_product(value, power):
    """value * power as high + low: high the rounded product, low its error, exactly (Dekker)."""
    high = value * power
    big = _SPLIT * value
    value_high = big - (big - value)
    value_low = value - value_high
    big = _SPLIT * power
    power_high = big - (big - power)
    power_low = power - power_high
    return high, (((value_high * power_high - high) + value_high * power_low) + value_low * power_high
                  + value_low * power_low)


def _with_point(digits, point):
    """The 16 or 17 decimal digits ``digits``, the first one at 10**point (-4 to 14), as repr()
    writes them: no exponent, and there are digits after the point."""
    if point < 0:
        return _LEADING[-point - 1] + digits
    return digits[:point + 1] + "." + digits[point + 1:]


def _fixed_point(digits, point):
    """The decimal digits ``digits`` (no trailing zero), the first one at 10**point, as repr()
    writes a float from 1e-4 to 1e16: no exponent, at least one digit after the point."""
    if point < 0:
        return _LEADING[-point - 1] + digits
    whole = digits[:point + 1]
    return whole + "0" * (point + 1 - len(whole)) + "." + (digits[point + 1:] or "0")
