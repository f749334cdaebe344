/* Power curves of host models: SPECpower-style 11-point tables, linear
 * interpolation between points, and energy over an interval. */
#include "catena/place.h"

#include <math.h>

#include "catena/util.h"

double ct_power_at(const ct_power_curve *curve, double utilisation)
{
    double pos, frac;
    int lo;

    if (!(utilisation > 0.0)) /* also catches NaN */
        return curve->watts[0];
    if (utilisation >= 1.0)
        return curve->watts[CT_POWER_POINTS - 1];
    pos = utilisation * (CT_POWER_POINTS - 1);
    /* 0.3 * 10 is 3.0000000000000004: snap to the point it means. */
    if (fabs(pos - nearbyint(pos)) < 1e-9)
        return curve->watts[(int)nearbyint(pos)];
    lo = (int)floor(pos);
    if (lo >= CT_POWER_POINTS - 1)
        return curve->watts[CT_POWER_POINTS - 1];
    frac = pos - lo;
    return curve->watts[lo] + (curve->watts[lo + 1] - curve->watts[lo]) * frac;
}

double ct_power_energy(const ct_power_curve *curve, double u_from, double u_to, double seconds)
{
    double from = ct_power_at(curve, u_from);
    double to = ct_power_at(curve, u_to);

    return (from + (to - from) / 2.0) * seconds;
}

int ct_power_curve_check(const ct_power_curve *curve)
{
    for (int i = 0; i < CT_POWER_POINTS; i++) {
        double w = curve->watts[i];
        if (!isfinite(w) || w < 0.0)
            return ct_error_set(CT_EINVAL, "power curve: point %d (%d %%) is %g W", i, i * 10, w);
        if (i > 0 && w < curve->watts[i - 1])
            return ct_error_set(CT_EINVAL, "power curve: %g W at %d %% is below %g W at %d %%", w,
                                i * 10, curve->watts[i - 1], (i - 1) * 10);
    }
    return 0;
}
