"""Interface strings in Vietnamese (the default) and English.

Form labels live in the form definitions; this holds everything else the service says.
"""

from __future__ import annotations

from flask import current_app, g, has_request_context, request, session

__all__ = ["LANGS", "CLIENT_KEYS", "gettext", "current_lang", "client_messages"]

LANGS = ("vi", "en")

MESSAGES: dict[str, dict[str, str]] = {
    # validation
    "required": {"vi": "Bắt buộc nhập.", "en": "This field is required."},
    "null": {"vi": "Không được để trống.", "en": "This field may not be null."},
    "not_integer": {"vi": "Phải là số nguyên.", "en": "Must be a whole number."},
    "not_text": {"vi": "Phải là chữ.", "en": "Must be text."},
    "not_list": {"vi": "Phải là một danh sách.", "en": "Must be a list."},
    "not_date": {"vi": "Ngày không hợp lệ (YYYY-MM-DD).", "en": "Not a valid date (YYYY-MM-DD)."},
    "not_uuid": {"vi": "Mã phiếu không hợp lệ (UUID).", "en": "Not a valid UUID."},
    "range": {"vi": "Phải từ {min} đến {max}.", "en": "Must be between {min} and {max}."},
    "at_least": {"vi": "Phải từ {min} trở lên.", "en": "Must be at least {min}."},
    "length": {"vi": "Độ dài từ {min} đến {max} ký tự.", "en": "Length must be between {min} and {max} characters."},
    "too_long": {"vi": "Tối đa {max} ký tự.", "en": "At most {max} characters."},
    "blank": {"vi": "Không được để trống.", "en": "May not be blank."},
    "bad_chars": {"vi": "Có ký tự điều khiển hoặc ký tự ẩn: {chars}.",
                  "en": "Contains control or invisible characters: {chars}."},
    "choice": {"vi": "Lựa chọn không hợp lệ: {input}.", "en": "Not a valid choice: {input}."},
    "future": {"vi": "Không được là ngày trong tương lai.", "en": "May not be in the future."},
    "unknown_field": {"vi": "Trường không có trong biểu mẫu.", "en": "Unknown field."},
    "not_commune": {"vi": "Không phải mã xã/phường/thị trấn của {province}.",
                    "en": "Not a commune code of {province}."},
    "invalid": {"vi": "Giá trị không hợp lệ.", "en": "Invalid value."},
    # pages
    "app_name": {"vi": "Bluezone: phiếu hộ gia đình", "en": "Bluezone household survey"},
    "login": {"vi": "Đăng nhập", "en": "Log in"},
    "logout": {"vi": "Đăng xuất", "en": "Log out"},
    "username": {"vi": "Tên đăng nhập", "en": "Username"},
    "password": {"vi": "Mật khẩu", "en": "Password"},
    "bad_login": {"vi": "Sai tên đăng nhập hoặc mật khẩu.", "en": "Wrong username or password."},
    "too_many_logins": {"vi": "Quá nhiều lần thử. Vui lòng đợi {seconds} giây.",
                        "en": "Too many attempts. Please wait {seconds} seconds."},
    "save": {"vi": "Lưu phiếu", "en": "Save household"},
    "saved": {"vi": "Đã lưu hộ {name} ({hamlet}). Đã ghi {count} hộ ở xã này.",
              "en": "Saved household {name} ({hamlet}). {count} households recorded in this commune."},
    "fix_errors": {"vi": "Vui lòng sửa các ô được đánh dấu.", "en": "Please fix the marked fields."},
    "choose": {"vi": "— Chọn —", "en": "— Choose —"},
    "aggregates": {"vi": "Tổng hợp", "en": "Aggregates"},
    "form": {"vi": "Phiếu hộ", "en": "Form"},
    "level_province": {"vi": "Tỉnh", "en": "Province"},
    "level_district": {"vi": "Huyện", "en": "District"},
    "level_commune": {"vi": "Xã", "en": "Commune"},
    "level_hamlet": {"vi": "Thôn/xóm", "en": "Hamlet"},
    "download": {"vi": "Tải về", "en": "Download"},
    "households": {"vi": "Số hộ", "en": "Households"},
    "coverage": {"vi": "Tỷ lệ cài (%)", "en": "Coverage (%)"},
    "installed_total": {"vi": "Tổng đã cài", "en": "Installed in all"},
    "name": {"vi": "Đơn vị", "en": "Unit"},
    "code": {"vi": "Mã", "en": "Code"},
    "total": {"vi": "Tổng cộng", "en": "Total"},
    "household_list": {"vi": "Danh sách hộ", "en": "Household list"},
    "forbidden": {"vi": "Bạn không có quyền xem trang này.", "en": "You may not see this page."},
    "not_found": {"vi": "Không tìm thấy trang.", "en": "Page not found."},
    "csrf": {"vi": "Phiên làm việc đã hết hạn, vui lòng gửi lại.", "en": "The form expired; please submit it again."},
    "signed_in_as": {"vi": "Đăng nhập: {user}", "en": "Signed in: {user}"},
    "no_commune_role": {"vi": "Tài khoản này không nhập phiếu hộ.", "en": "This account does not enter households."},
    # the offline form: outbox, sending, today's list
    "offline_ready": {"vi": "Đã sẵn sàng dùng khi mất sóng.", "en": "Ready to use with no signal."},
    "offline_now": {"vi": "Đang mất sóng: phiếu được giữ trên máy và tự gửi khi có mạng.",
                    "en": "No signal: households stay on this phone and are sent when the network returns."},
    "outbox": {"vi": "Chờ gửi", "en": "Waiting to send"},
    "send_now": {"vi": "Gửi ngay", "en": "Send now"},
    "today_list": {"vi": "Đã ghi hôm nay", "en": "Recorded today"},
    "state_waiting": {"vi": "Chờ gửi", "en": "Waiting"},
    "state_rejected": {"vi": "Cần sửa", "en": "To fix"},
    "state_sent": {"vi": "Đã gửi", "en": "Sent"},
    "open_record": {"vi": "Sửa", "en": "Edit"},
    "nothing_yet": {"vi": "Chưa có phiếu nào.", "en": "Nothing yet."},
    "saved_local": {"vi": "Đã lưu trên máy: {name} ({hamlet}). Đang chờ gửi.",
                    "en": "Kept on this phone: {name} ({hamlet}). Waiting to be sent."},
    "sent_ok": {"vi": "Đã gửi hộ {name} ({hamlet}) lên máy chủ.",
                "en": "Household {name} ({hamlet}) is on the server."},
    "rejected": {"vi": "Máy chủ chưa nhận hộ {name}: vui lòng sửa các ô được đánh dấu.",
                 "en": "The server did not accept {name}: please fix the marked fields."},
    "retry_at": {"vi": "thử lại lúc {time}", "en": "retry at {time}"},
    "save_failed": {"vi": "Không lưu được trên máy: {error}", "en": "Could not keep it on this phone: {error}"},
    "editing": {"vi": "Đang sửa hộ {name}.", "en": "Correcting {name}."},
    "cancel": {"vi": "Hủy", "en": "Cancel"},
    "relogin": {"vi": "Phiên đăng nhập đã hết hạn. Các phiếu vẫn được giữ trên máy; đăng nhập lại để gửi.",
                "en": "Your login has expired. The households stay on this phone; log in again to send them."},
    "relogin_link": {"vi": "Đăng nhập lại", "en": "Log in again"},
}

# Messages the form's script shows; the page hands them over in its own language.
CLIENT_KEYS = ("saved_local", "sent_ok", "rejected", "state_waiting", "state_rejected", "state_sent",
               "open_record", "nothing_yet", "retry_at", "save_failed", "editing")


def current_lang() -> str:
    """The request's language: ?lang=, then the session, then the configured default."""
    if not has_request_context():
        return "vi"
    if "lang" in g:
        return g.lang
    lang = request.args.get("lang") or session.get("lang")
    if lang not in LANGS:
        lang = current_app.config["SURVEY_DEFAULT_LANG"]
    g.lang = lang
    return lang


def gettext(key: str, lang: str | None = None, **params: object) -> str:
    """The message ``key`` in ``lang`` (default: the request's), with ``params`` filled in."""
    text = MESSAGES[key][lang or current_lang()]
    return text.format(**params) if params else text


def client_messages() -> dict[str, str]:
    """The script's messages in the request's language, for the page to embed as data."""
    return {key: gettext(key) for key in CLIENT_KEYS}
