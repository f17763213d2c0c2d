/* The number forms every front end accepts, so an offset typed on the
 * command line and in the page's field mean the same. */
#include "ui/ui.h"

#include <ctype.h>
#include <stdlib.h>
#include <string.h>

int bk_parse_num(const char *s, uint64_t max, uint64_t *out)
{
	uint64_t v = 0, base = 10;
	if (!s || !*s)
		return BK_EINVAL;
	if (s[0] == '0' && (s[1] == 'x' || s[1] == 'X')) {
		base = 16;
		s += 2;
		if (!isxdigit((unsigned char)*s))
			return BK_EINVAL;
	} else if (!isdigit((unsigned char)*s)) {
		return BK_EINVAL;
	}
	for (; isxdigit((unsigned char)*s); s++) {
		unsigned d = isdigit((unsigned char)*s) ? (unsigned)(*s - '0')
							: (unsigned)(tolower((unsigned char)*s) - 'a' + 10);
		if (d >= base || v > (UINT64_MAX - d) / base)
			return BK_EINVAL;
		v = v * base + d;
	}
	uint64_t unit = 1;
	if (*s == 'k' || *s == 'K')
		unit = 1024;
	else if (*s == 'm' || *s == 'M')
		unit = 1024 * 1024;
	if (unit > 1)
		s++;
	if (*s || v > UINT64_MAX / unit || v * unit > max)
		return BK_EINVAL;
	*out = v * unit;
	return 0;
}

int bk_parse_hz(const char *s, uint32_t *out)
{
	if (!s || !isdigit((unsigned char)*s))
		return BK_EINVAL;
	char *end;
	double v = strtod(s, &end);
	if (*end == 'k' || *end == 'K')
		v *= 1e3, end++;
	else if (*end == 'M')
		v *= 1e6, end++;
	if (!strcmp(end, "Hz") || !strcmp(end, "hz"))
		end += 2;
	if (*end || v < 1 || v > 4e9 || v != (double)(uint64_t)v)
		return BK_EINVAL;
	*out = (uint32_t)v;
	return 0;
}
