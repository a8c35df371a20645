from django.http import HttpResponse


def playbook_list(request):
    return HttpResponse("")
