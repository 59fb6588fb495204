"""Interface strings in Vietnamese (the default) and English.

Form labels live in the form definitions; this holds everything else the service says.
"""

from __future__ import annotations

from flask import current_app, g, has_request_context, request, session

__all__ = ["LANGS", "CLIENT_KEYS", "gettext", "ngettext", "current_lang", "client_messages"]

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
    "outside_window": {"vi": "Phải trong thời gian chiến dịch, từ {first} đến {last}.",
                       "en": "Must be within the campaign, {first} to {last}."},
    "unknown_field": {"vi": "Trường không có trong biểu mẫu.", "en": "Unknown field."},
    "not_commune": {"vi": "Không phải mã xã/phường/thị trấn của {province}.",
                    "en": "Not a commune code of {province}."},
    "invalid": {"vi": "Giá trị không hợp lệ.", "en": "Invalid value."},
    "not_agency": {"vi": "Không phải mã cơ quan, đơn vị trong danh sách báo cáo.",
                   "en": "Not the code of a reporting agency."},
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
    "saved_one": {"vi": "Đã lưu hộ {name} ({hamlet}). Đã ghi {count} hộ ở xã này.",
                  "en": "Saved household {name} ({hamlet}). {count} household recorded in this commune."},
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
    "to_fix": {"vi": "{count} phiếu cần sửa: xem lý do", "en": "{count} records need correction: see why"},
    "to_fix_one": {"vi": "{count} phiếu cần sửa: xem lý do", "en": "{count} record needs correction: see why"},
    "review": {"vi": "Kiểm tra", "en": "Review"},
    "accounts": {"vi": "Tài khoản", "en": "Accounts"},
    "import": {"vi": "Nhập tệp", "en": "Import"},
    "household_list": {"vi": "Danh sách hộ", "en": "Household list"},
    "forbidden": {"vi": "Bạn không có quyền xem trang này.", "en": "You may not see this page."},
    "not_found": {"vi": "Không tìm thấy trang.", "en": "Page not found."},
    "csrf": {"vi": "Phiên làm việc đã hết hạn, vui lòng gửi lại.", "en": "The form expired; please submit it again."},
    "signed_in_as": {"vi": "Đăng nhập: {user}", "en": "Signed in: {user}"},
    "dup_distinct": {"vi": "Hãy chọn ít nhất hai phiếu khác nhau của một nhóm có thể trùng lặp.",
                     "en": "Choose at least two different records of one probable-duplicate group."},
    "dup_not_group": {"vi": "Các phiếu này không phải một nhóm có thể trùng lặp (hoặc nhóm đã được xử lý).",
                      "en": "These records are not one probable-duplicate group (or it was settled already)."},
    "no_open_flag": {"vi": "Phiếu này không có yêu cầu sửa nào đang chờ.",
                     "en": "This record has no open request for correction."},
    "checked_saved": {"vi": "Đã ghi nhận: đã kiểm tra, không cần sửa.", "en": "Recorded: checked, no change needed."},
    "checked_button": {"vi": "Đã kiểm tra, không cần sửa", "en": "Checked, no change needed"},
    "checked_no_change": {"vi": "đã kiểm tra, không sửa", "en": "checked, no change"},
    "change_password": {"vi": "Đổi mật khẩu", "en": "Change password"},
    "current_password": {"vi": "Mật khẩu hiện tại", "en": "Current password"},
    "new_password": {"vi": "Mật khẩu mới (ít nhất 8 ký tự)", "en": "New password (at least 8 characters)"},
    "confirm_password": {"vi": "Nhập lại mật khẩu mới", "en": "New password again"},
    "must_change_password": {"vi": "Mật khẩu này chỉ dùng một lần: hãy đặt mật khẩu mới trước khi tiếp tục.",
                             "en": "This password is for one use only: set a new password before going on."},
    "password_changed": {"vi": "Đã đổi mật khẩu. Các phiên đăng nhập và mã API khác đã hết hiệu lực.",
                         "en": "Password changed. Other sessions and API tokens no longer work."},
    "password_wrong": {"vi": "Mật khẩu hiện tại không đúng.", "en": "The current password is wrong."},
    "password_same": {"vi": "Mật khẩu mới phải khác mật khẩu hiện tại.",
                      "en": "The new password must differ from the current one."},
    "password_short": {"vi": "Mật khẩu cần ít nhất 8 ký tự.", "en": "A password needs at least 8 characters."},
    "password_mismatch": {"vi": "Hai lần nhập mật khẩu mới không khớp.", "en": "The two new passwords differ."},
    # reporting: dashboard, agency reports, settings, the province report
    "dashboard": {"vi": "Theo dõi", "en": "Dashboard"},
    "dashboard_title": {"vi": "Theo dõi cài đặt Bluezone", "en": "Bluezone installation dashboard"},
    "as_of": {"vi": "Số liệu đến ngày {date}", "en": "Figures as of {date}"},
    "whole_province": {"vi": "Toàn tỉnh", "en": "Whole province"},
    "show": {"vi": "Xem", "en": "Show"},
    "households_visited": {"vi": "Hộ đã đến", "en": "Households visited"},
    "smartphone_users": {"vi": "Người dùng ĐTTM", "en": "Smartphone users"},
    "installed": {"vi": "Đã cài Bluezone", "en": "Have Bluezone"},
    "target": {"vi": "Mục tiêu", "en": "Target"},
    "target_line": {"vi": "Mục tiêu {pct}% người dùng ĐTTM: cần {count} người cài; còn thiếu {gap}.",
                    "en": "Target {pct}% of smartphone users: {count} installations needed; {gap} to go."},
    "target_reached": {"vi": "Đã đạt mục tiêu {pct}% người dùng ĐTTM ({count} người).",
                       "en": "The {pct}% target is reached ({count} installations)."},
    "coverage_by_district": {"vi": "Tỷ lệ cài theo huyện (% người dùng ĐTTM)",
                             "en": "Coverage by district (% of smartphone users)"},
    "coverage_by_commune": {"vi": "Tỷ lệ cài theo xã (% người dùng ĐTTM)",
                            "en": "Coverage by commune (% of smartphone users)"},
    "below_target": {"vi": "dưới mục tiêu", "en": "below target"},
    "below_target_units": {"vi": "Đơn vị dưới mục tiêu: {n}", "en": "Units below target: {n}"},
    "cumulative_title": {"vi": "Số người đã cài, cộng dồn theo ngày đến hộ",
                         "en": "Installations, cumulative by visit day"},
    "no_household_communes": {"vi": "Xã chưa có hộ nào được ghi ({n})", "en": "Communes with no household yet ({n})"},
    "stale_communes": {"vi": "Xã không gửi phiếu trong {days} ngày qua ({n})",
                       "en": "Communes with no submission in the last {days} days ({n})"},
    "last_submission": {"vi": "Lần gửi cuối", "en": "Last submission"},
    "days_silent": {"vi": "Số ngày", "en": "Days"},
    "none": {"vi": "Không có.", "en": "None."},
    "agency_reports": {"vi": "Báo cáo của cơ quan, đơn vị", "en": "Agency reports"},
    "agency_deadline": {"vi": "Hạn báo cáo: {date}", "en": "Deadline: {date}"},
    "status": {"vi": "Tình trạng", "en": "Status"},
    "status_on_time": {"vi": "Đúng hạn", "en": "On time"},
    "status_late": {"vi": "Muộn", "en": "Late"},
    "status_pending": {"vi": "Chưa báo cáo", "en": "Not yet"},
    "status_overdue": {"vi": "Quá hạn, chưa báo cáo", "en": "Overdue, not reported"},
    "agency": {"vi": "Cơ quan, đơn vị", "en": "Agency"},
    "staff_total": {"vi": "Tổng số cán bộ", "en": "Staff"},
    "agency_report": {"vi": "Báo cáo cơ quan", "en": "Agency report"},
    "send_report": {"vi": "Gửi báo cáo", "en": "Send report"},
    "report_saved": {"vi": "Đã nhận báo cáo lần {version} của {agency}.",
                     "en": "Report {version} of {agency} received."},
    "report_history": {"vi": "Các lần đã báo cáo", "en": "Reports sent"},
    "version": {"vi": "Lần", "en": "No."},
    "submitted_at": {"vi": "Thời điểm gửi", "en": "Sent at"},
    "current": {"vi": "đang tính", "en": "counted"},
    "province_report": {"vi": "Báo cáo gửi Chủ tịch UBND tỉnh (XLSX)", "en": "Province report for the Chairman (XLSX)"},
    "settings": {"vi": "Cài đặt", "en": "Settings"},
    "settings_title": {"vi": "Cài đặt chiến dịch", "en": "Campaign settings"},
    "start": {"vi": "Ngày bắt đầu", "en": "Start date"},
    "agency_deadline_label": {"vi": "Hạn cơ quan, đơn vị báo cáo", "en": "Agency report deadline"},
    "province_deadline_label": {"vi": "Hạn báo cáo Chủ tịch UBND tỉnh", "en": "Province report deadline"},
    "target_pct_label": {"vi": "Mục tiêu (% người dùng ĐTTM)", "en": "Target (% of smartphone users)"},
    "stale_days_label": {"vi": "Cảnh báo xã không gửi phiếu sau (ngày)", "en": "Flag communes silent for (days)"},
    "last_changed": {"vi": "Sửa lần cuối lúc {when}, bởi {who}.", "en": "Last changed at {when} by {who}."},
    "settings_saved": {"vi": "Đã lưu cài đặt.", "en": "Settings saved."},
    "deadline_before_start": {"vi": "Hạn báo cáo không được trước ngày bắt đầu.",
                              "en": "The deadline cannot be before the start."},
    "province_before_agency": {"vi": "Hạn báo cáo tỉnh không được trước hạn của cơ quan, đơn vị.",
                               "en": "The province deadline cannot be before the agencies' deadline."},
    "agency_code_format": {"vi": "Mã gồm 2–20 chữ in hoa không dấu, chữ số hoặc dấu '-'.",
                           "en": "A code is 2-20 capital letters, digits or '-'."},
    "not_district": {"vi": "Không phải mã huyện, thành phố của tỉnh.", "en": "Not a district code of the province."},
    "agencies": {"vi": "Danh sách cơ quan báo cáo", "en": "Reporting agencies"},
    "agency_code": {"vi": "Mã", "en": "Code"},
    "agency_name": {"vi": "Tên cơ quan, đơn vị", "en": "Name"},
    "agency_group": {"vi": "Nhóm", "en": "Group"},
    "agency_district": {"vi": "Huyện (với UBND huyện)", "en": "District (district committees)"},
    "agency_active": {"vi": "Còn phải báo cáo", "en": "Expected to report"},
    "agency_saved": {"vi": "Đã lưu cơ quan {code}.", "en": "Agency {code} saved."},
    "add_or_change_agency": {"vi": "Thêm hoặc sửa cơ quan (nhập mã có sẵn để sửa)",
                             "en": "Add or change an agency (an existing code changes it)"},
    "save_settings": {"vi": "Lưu", "en": "Save"},
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
    # the office's household list
    "households_title": {"vi": "Danh sách hộ", "en": "Households"},
    "search": {"vi": "Tìm theo tên chủ hộ, thôn/xóm", "en": "Search head of household, hamlet"},
    "filter": {"vi": "Lọc", "en": "Filter"},
    "clear_filters": {"vi": "Bỏ lọc", "en": "Clear"},
    "more_filters": {"vi": "Lọc theo đơn vị, cán bộ, ngày, kiểm tra", "en": "Filter by unit, officer, date, review"},
    "all": {"vi": "Tất cả", "en": "All"},
    "officer": {"vi": "Cán bộ nhập", "en": "Officer"},
    "visit_date": {"vi": "Ngày đến hộ", "en": "Visit date"},
    "review_state": {"vi": "Kiểm tra", "en": "Review"},
    "review_open": {"vi": "Cần sửa", "en": "Needs correction"},
    "review_corrected": {"vi": "Đã sửa", "en": "Corrected"},
    "review_none": {"vi": "Chưa yêu cầu sửa", "en": "Not sent back"},
    "found": {"vi": "{n} hộ", "en": "{n} households"},
    "found_one": {"vi": "{n} hộ", "en": "{n} household"},
    "page_of": {"vi": "Trang {page}/{pages}", "en": "Page {page} of {pages}"},
    "previous": {"vi": "Trang trước", "en": "Previous"},
    "next": {"vi": "Trang sau", "en": "Next"},
    "no_match": {"vi": "Không có hộ nào khớp.", "en": "No household matches."},
    "see_households": {"vi": "Xem danh sách hộ", "en": "See the households"},
    "error_summary": {"vi": "Chưa lưu: vui lòng sửa {count} ô dưới đây.",
                      "en": "Not saved: please fix the {count} fields below."},
    "to_fix_title": {"vi": "Cần sửa (máy chủ chưa nhận)", "en": "To fix (not accepted by the server)"},
    "new_version": {"vi": "Đã có phiên bản mới của phiếu.", "en": "A newer version of the form is ready."},
    "reload": {"vi": "Tải lại", "en": "Reload"},
    "end_label": {"vi": "Ngày kết thúc (ngày cuối đến hộ)", "en": "Last day of visits"},
    "end_before_start": {"vi": "Ngày kết thúc không được trước ngày bắt đầu.",
                         "en": "The last day cannot be before the start."},
    "chart_table": {"vi": "Số liệu của biểu đồ", "en": "The chart's figures"},
    "day": {"vi": "Ngày", "en": "Day"},
}

# Messages the form's script shows; the page hands them over in its own language.
CLIENT_KEYS = ("saved_local", "sent_ok", "rejected", "state_waiting", "state_rejected", "state_sent",
               "open_record", "nothing_yet", "retry_at", "save_failed", "editing", "error_summary")


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


def ngettext(key: str, amount: int, /, **params: object) -> str:
    """The message ``key`` for a count: ``key + "_one"`` when ``amount`` is 1 (English needs it)."""
    one = f"{key}_one"
    return gettext(one if amount == 1 and one in MESSAGES else key, **params)


def client_messages() -> dict[str, str]:
    """The script's messages in the request's language, for the page to embed as data."""
    return {key: gettext(key) for key in CLIENT_KEYS}
