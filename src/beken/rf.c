/* RF calibration sector: "TLV\0", a total length, then tagged items. The MAC
 * item is the second child of the first group in every dump seen (long and
 * short TLVs alike): tag word at 0x1C, length at 0x20, the MAC at 0x24. */
#include "beken/internal.h"

#include <string.h>

#define MAC_TAG 0x11111102u
#define MAC_TAG_AT 0x1Cu
#define MAC_LEN_AT 0x20u
#define MAC_AT 0x24u

const char *bk_beken_mac_at(const uint8_t *p, size_t n, uint8_t mac[6])
{
	if (n < MAC_AT + 6)
		return "image ends inside the MAC item";
	if (memcmp(p, "TLV", 4) != 0)
		return "no \"TLV\" header";
	if (bk_beken_le32(p + MAC_TAG_AT) != MAC_TAG)
		return "no MAC item (tag 0x11111102) at 0x1C";
	if (bk_beken_le32(p + MAC_LEN_AT) != 6)
		return "MAC item length is not 6";
	memcpy(mac, p + MAC_AT, 6);
	return NULL;
}

int bk_beken_mac(const uint8_t *img, size_t size, uint32_t rf_addr,
		 uint8_t mac[6], struct bk_err *err)
{
	if (!img || !mac)
		return bk_fail(err, BK_EINVAL, "MAC: no buffer");
	if (rf_addr > size)
		return bk_fail(err, BK_EINVAL,
			       "image of %zu bytes ends before the RF sector at 0x%X",
			       size, rf_addr);
	const char *why = bk_beken_mac_at(img + rf_addr, size - rf_addr, mac);
	if (why)
		return bk_fail(err, BK_EINVAL, "RF sector at 0x%X: %s", rf_addr, why);
	return BK_OK;
}
